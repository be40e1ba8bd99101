-- The JAR's 34 seed variables, spelled and ordered as the seed has them, for consumers of that contract.
SELECT
    "ChannelType", "UniversalSessionId", "SessionId", "CUST_ID",
    timezone('UTC', "SessionStartTime") AS "SessionStartTime",
    timezone('UTC', "InteractionStartTime") AS "InteractionStartTime",
    timezone('UTC', "InteractionEndTime") AS "InteractionEndTime",
    timezone('UTC', "SessionEndTime") AS "SessionEndTime",
    "HoldTime", "AgentId", "AgentSkillId", "Department", "Team", "IntentCategory", "Intent", "JourneyStep",
    "IsResolved", "IsTransferred", "ChannelTypeTransferred", "IsDigitalOffered", "IsDigitalAccepted",
    "AgentIdTransferred", "AgentSkillIdTransferred", "ExitReasonCode", "InteractionNotes", "IsTransferredToSurvey",
    "CSATScore", "IsCallBack", "CallBackSessionId", "SessionDuration", "CustomerDuration", "AgentDuration",
    "InteractionDuration", "QueueTime"
FROM main.jar
