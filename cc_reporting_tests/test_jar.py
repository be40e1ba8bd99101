"""JAR identity, columns and flags (car-jar.md §1-§5) on hand-made journeys; expectations computed by hand.

Leg timeline (jar_journeys.leg, defaults): start 09:00:00, IVR 30 s -> enqueued 09:00:30, queued 10 s -> agent
connects 09:00:40, talk 100 s -> customer disconnects / ACW starts 09:02:20, ACW 20 s -> ends 09:02:40.
"""
from datetime import datetime, timezone

from cc_reporting.models.analytics.jar import refresh_jar
from cc_reporting.models.analytics.jar_schema import JAR_COLUMNS, SEED_COLUMNS
from cc_reporting.models.teleopti import interval_stats

from .jar_journeys import at, bot_session, crm, jar_rows, leg, naive, settings, stage, stage_sessions

AS_OF = datetime(2026, 1, 6, tzinfo=timezone.utc)




def build(con, *records, sessions=(), as_of=AS_OF, **kw):
    if records:
        stage(con, *records)
    if sessions:
        stage_sessions(con, *sessions)
    meta = refresh_jar(con, settings(**kw), as_of)
    return jar_rows(con), meta


def test_jar_has_the_34_seed_columns_first_with_exact_names_and_types_then_the_extras(con):
    """Seed names keep their case (CUST_ID, IsResolved...); IsResolvedFinal and snake_case extras follow."""
    build(con)
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE jar").fetchall()]
    assert len(SEED_COLUMNS) == 34
    assert described[:34] == list(SEED_COLUMNS)
    assert [name for name, _ in described] == list(JAR_COLUMNS)
    extras = dict(described[34:])
    assert extras["IsResolvedFinal"] == "BOOLEAN" and extras["enqueued_at"] == "TIMESTAMP"
    for name in ("journey_path", "root_contact_id", "source", "initiation_method", "queue_name", "device",
                 "previous_contact_id"):
        assert extras[name] == "VARCHAR"
    for name in ("is_queued", "is_answered", "is_abandoned", "is_short_abandon", "answered_within_sla",
                 "abandoned_within_sla", "is_outbound", "is_transfer_in", "acw_duration"):
        assert extras[name] == "INTEGER"


def test_ivr_only_voice_leg_is_channel_type_ivr_and_other_shapes_keep_their_channel(con):
    """ivr: VOICE, no queue, no agent -> IVR (ends 09:00:30: 30 s session, PHONE, no agent/queue columns).
    abandoned: queued -> VOICE. direct: agent but never queued (outbound) -> VOICE. chat: no queue/agent -> CHAT."""
    rows, _ = build(con, leg("ivr"), leg("abandoned", queue="billing"),
                    leg("direct", method="OUTBOUND", agent="jane"), leg("chat", channel="CHAT", phone=None))
    ivr = rows["ivr"]
    assert (ivr["ChannelType"], ivr["device"], ivr["UniversalSessionId"], ivr["JourneyStep"], ivr["journey_path"]) \
        == ("IVR", "PHONE", "ivr", 1, "IVR")
    assert (ivr["SessionStartTime"], ivr["SessionEndTime"]) == (naive(at("09:00:00")), naive(at("09:00:30")))
    assert (ivr["SessionDuration"], ivr["CustomerDuration"]) == (30, 30)
    for column in ("InteractionStartTime", "InteractionEndTime", "HoldTime", "AgentId", "AgentSkillId",
                   "AgentDuration", "InteractionDuration", "QueueTime", "acw_duration", "enqueued_at"):
        assert ivr[column] is None, column
    assert ivr["is_queued"] == 0 and ivr["source"] == "connect" and ivr["root_contact_id"] == "ivr"
    assert rows["abandoned"]["ChannelType"] == "VOICE"
    assert rows["direct"]["ChannelType"] == "VOICE"
    assert rows["chat"]["ChannelType"] == "CHAT"


def test_transfer_and_callback_journey_links_chain_root_transfer_columns_and_callbacks(con):
    """c1 (jane, billing) -> TRANSFER c2 (tech, unanswered, asks for a callback: NextContactId c3)
    -> CALLBACK c3 (PreviousContactId c2, no InitialContactId; bob, tech) -> external transfer; a second
    callback c4 for c2 at 10:00.
    Chain root: c3 is a callback -> row c2's InitialContactId = c1 -> c1 (not a callback): root c1 for all.
    c1: next = c2 (VOICE, queued, no agent) -> transferred to VOICE, agent None, skill tech.
    c2: next = c3 -> VOICE, bob, tech; requested callbacks c3 (09:30) and c4 (10:00) -> earliest c3; not abandoned.
    c3: callback of c2; NextContactId null + TransferCompleted -> EXTERNAL, no agent/skill transferred."""
    rows, _ = build(
        con,
        leg("c1", queue="billing", agent="jane", next_contact="c2"),
        leg("c2", "09:02:20", method="TRANSFER", initial="c1", previous="c1", ivr=0, queue="tech", queue_s=60,
            next_contact="c3"),
        leg("c3", "09:30:00", method="CALLBACK", previous="c2", ivr=0, queue="tech", agent="bob",
            external_transfer=True),
        leg("c4", "10:00:00", method="CALLBACK", previous="c2", ivr=0, queue="tech"),
    )
    c1, c2, c3, c4 = (rows[k] for k in ("c1", "c2", "c3", "c4"))
    assert [r["root_contact_id"] for r in (c1, c2, c3, c4)] == ["c1"] * 4
    assert [r["UniversalSessionId"] for r in (c1, c2, c3, c4)] == ["c1"] * 4
    assert [r["JourneyStep"] for r in (c1, c2, c3, c4)] == [1, 2, 3, 4]
    assert c1["journey_path"] == "VOICE>VOICE>VOICE>VOICE"
    assert (c1["IsTransferred"], c1["ChannelTypeTransferred"], c1["AgentIdTransferred"],
            c1["AgentSkillIdTransferred"], c1["CallBackSessionId"]) == (True, "VOICE", None, "tech", None)
    assert (c2["IsTransferred"], c2["ChannelTypeTransferred"], c2["AgentIdTransferred"],
            c2["AgentSkillIdTransferred"], c2["CallBackSessionId"]) == (True, "VOICE", "bob", "tech", "c3")
    assert (c2["is_queued"], c2["is_answered"], c2["is_abandoned"], c2["is_transfer_in"]) == (1, 0, 0, 1)
    assert (c3["IsCallBack"], c3["CallBackSessionId"], c3["IsTransferred"], c3["ChannelTypeTransferred"],
            c3["AgentIdTransferred"], c3["AgentSkillIdTransferred"]) == (True, "c2", True, "EXTERNAL", None, None)
    assert (c4["IsCallBack"], c4["CallBackSessionId"], c4["previous_contact_id"]) == (True, "c2", "c2")
    assert (c1["IsCallBack"], c1["IsTransferred"]) == (False, True)
    # c3's ACW ends 09:32:10 but the external call keeps the customer until 09:41:50 (710 s after 09:30:00).
    assert (c3["SessionEndTime"], c3["SessionDuration"], c3["CustomerDuration"]) == (naive(at("09:32:10")), 130, 710)


def test_next_contact_not_staged_yet_gives_own_channel(con):
    """c1.NextContactId = c9, which has not landed: ChannelTypeTransferred = c1's own Channel (VOICE)."""
    rows, _ = build(con, leg("c1", queue="billing", agent="jane", next_contact="c9"))
    assert (rows["c1"]["IsTransferred"], rows["c1"]["ChannelTypeTransferred"], rows["c1"]["AgentIdTransferred"]) \
        == (True, "VOICE", None)


def test_chain_root_follows_callbacks_at_most_20_hops(con):
    """cb00 is an inbound leg; cbK (K=1..25) is a callback whose PreviousContactId is cb(K-1), no
    InitialContactId. Each hop moves back one leg, so root(cbK) = cb(max(0, K-20)): cb20 -> cb00, cb21 -> cb01,
    cb25 -> cb05 (the walk stops after 20 hops even though cb05 is a callback)."""
    legs = [leg("cb00")] + [leg(f"cb{k:02d}", f"{9 + k // 60:02d}:{k % 60:02d}:00", method="CALLBACK",
                                previous=f"cb{k - 1:02d}") for k in range(1, 26)]
    rows, meta = build(con, *legs)
    assert {k: rows[f"cb{k:02d}"]["root_contact_id"] for k in (0, 1, 19, 20, 21, 25)} == \
        {0: "cb00", 1: "cb00", 19: "cb00", 20: "cb00", 21: "cb01", 25: "cb05"}
    assert rows["cb25"]["UniversalSessionId"] == "cb05"


def test_chatbot_hands_off_to_voice_one_universal_session(con):
    """wb-1 (08:55-09:00, us-1, C1, handed off to VOICE) -> v1 (09:01, attr universalSessionId us-1, jane,
    billing) -> TRANSFER v2 (09:03:20, no attributes: takes us-1 from its root row v1).
    Steps by SessionStartTime: wb-1 1, v1 2, v2 3; path WEBCHAT_BOT>VOICE>VOICE on every row.
    wb-1: next contact = step 2 = v1 -> agent jane, skill billing; resolved field false -> final.
    wb-2 -> v3 (IVR only, us-2): WEBCHAT_BOT>IVR."""
    rows, meta = build(
        con,
        leg("v1", "09:01:00", queue="billing", agent="jane", next_contact="v2",
            attributes={"universalSessionId": "us-1", "customerId": "C1"}),
        leg("v2", "09:03:20", method="TRANSFER", initial="v1", previous="v1", ivr=0, queue="tech", agent="bob"),
        leg("v3", "11:00:00", attributes={"universalSessionId": " us-2 "}),
        sessions=[bot_session("wb-1", universal_session_id="us-1", customer_id="C1", intent_category="BILLING",
                              intent="DISPUTE_CHARGE", resolved=False, handed_off_to="VOICE", exit_reason="HANDOFF"),
                  bot_session("wb-2", "10:50:00", "10:59:00", universal_session_id="us-2", handed_off_to="voice")],
    )
    wb, v1, v2 = rows["wb-1"], rows["v1"], rows["v2"]
    assert [r["UniversalSessionId"] for r in (wb, v1, v2)] == ["us-1"] * 3
    assert [r["JourneyStep"] for r in (wb, v1, v2)] == [1, 2, 3]
    assert {r["journey_path"] for r in (wb, v1, v2)} == {"WEBCHAT_BOT>VOICE>VOICE"}
    assert (wb["ChannelType"], wb["source"], wb["root_contact_id"], wb["CUST_ID"], wb["device"]) == \
        ("WEBCHAT_BOT", "webchat", None, "C1", "MOBILE")
    assert (wb["IsTransferred"], wb["ChannelTypeTransferred"], wb["AgentIdTransferred"],
            wb["AgentSkillIdTransferred"]) == (True, "VOICE", "jane", "billing")
    assert (wb["IsResolved"], wb["IsResolvedFinal"], wb["ExitReasonCode"]) == (False, True, "HANDOFF")
    assert (wb["IntentCategory"], wb["Intent"], wb["InteractionDuration"], wb["SessionDuration"]) == \
        ("BILLING", "DISPUTE_CHARGE", 297, 300)
    assert (wb["IsCallBack"], wb["is_queued"], wb["IsDigitalOffered"], wb["CSATScore"]) == (False, 0, None, None)
    assert (v1["CUST_ID"], v1["root_contact_id"], v2["root_contact_id"]) == ("C1", "v1", "v1")
    assert [rows[k]["JourneyStep"] for k in ("wb-2", "v3")] == [1, 2]
    assert rows["v3"]["journey_path"] == "WEBCHAT_BOT>IVR" and rows["wb-2"]["ChannelTypeTransferred"] == "VOICE"
    assert meta["rows_by_source"] == {"connect": 3, "webchat": 2}


def test_durations_with_and_without_agent_and_missing_parts(con):
    """full: hold 15, talk 100, ACW 20: connects 09:00:40, ACW 09:02:35-09:02:55. Session 175, customer 155,
    agent 100+15+20 = 135, interaction 100, hold 15, queue 10, acw 20, interaction end = ACW start.
    partial: no hold, no ACW fields: agent = 100 (missing parts 0), session ends at disconnect 09:02:20 (140 s),
    interaction ends at disconnect. External: 08:55:00.7-09:00:00.2 = 299.5 s -> floored 299."""
    rows, _ = build(
        con, leg("full", queue="billing", agent="jane", hold=15),
        leg("partial", queue="billing", agent="jane",
            agent_fields={"CustomerHoldDuration": None, "AfterContactWorkDuration": None,
                          "AfterContactWorkStartTimestamp": None, "AfterContactWorkEndTimestamp": None}),
        sessions=[bot_session("wb-f", started_at="2026-01-05T08:55:00.700Z", ended_at="2026-01-05T10:00:00.200+01:00",
                              bot_started_at=None)])
    full, partial, ext = rows["full"], rows["partial"], rows["wb-f"]
    assert (full["SessionDuration"], full["CustomerDuration"], full["AgentDuration"], full["InteractionDuration"],
            full["HoldTime"], full["QueueTime"], full["acw_duration"]) == (175, 155, 135, 100, 15, 10, 20)
    assert (full["InteractionStartTime"], full["InteractionEndTime"], full["enqueued_at"]) == \
        (naive(at("09:00:40")), naive(at("09:02:35")), naive(at("09:00:30")))
    assert (partial["AgentDuration"], partial["HoldTime"], partial["acw_duration"], partial["SessionDuration"]) == \
        (100, None, None, 140)
    assert partial["InteractionEndTime"] == partial["SessionEndTime"] == naive(at("09:02:20"))
    assert (ext["SessionDuration"], ext["CustomerDuration"], ext["InteractionDuration"],
            ext["InteractionStartTime"], ext["InteractionEndTime"]) == (299, 299, None, None, None)


def test_agent_hierarchy_queue_and_exit_reason_columns(con):
    """Department/Team = hierarchy Level1/Level2 GroupName; AgentSkillId = queue ARN tail; ExitReasonCode =
    attr exitReason, else DisconnectReason; InteractionNotes = attr wrapUpNotes; survey absent -> false."""
    rows, _ = build(con, leg("a", queue="billing", agent="jane", hierarchy=("Retail", "North"),
                             attributes={"exitReason": "PAID", "wrapUpNotes": " refund issued ",
                                         "surveyOffered": "True",
                                         "intentCategory": "BILLING", "intent": "REFUND"}),
                    leg("b", queue="billing", agent="jane", disconnect_reason="AGENT_DISCONNECT"))
    a, b = rows["a"], rows["b"]
    assert (a["Department"], a["Team"], a["AgentId"], a["AgentSkillId"], a["queue_name"]) == \
        ("Retail", "North", "jane", "billing", "Billing")
    assert (a["ExitReasonCode"], a["InteractionNotes"], a["IsTransferredToSurvey"], a["IntentCategory"], a["Intent"]) \
        == ("PAID", "refund issued", True, "BILLING", "REFUND")
    assert (b["ExitReasonCode"], b["InteractionNotes"], b["IsTransferredToSurvey"]) == ("AGENT_DISCONNECT", None, False)


def test_digital_offer_and_accept_only_on_inbound_voice_legs_even_when_queued_afterwards(con):
    """ivr: offered+accepted in the IVR -> IVR row true/true. queued: offered, declined, queued -> VOICE row keeps
    offered true / accepted false. plain inbound: absent -> false/false. transfer leg and chat: null.
    'maybe' is invalid -> null and counted."""
    yes = {"digitalOffered": "true", "digitalAccepted": "TRUE"}
    rows, meta = build(con, leg("ivr", attributes=yes),
                       leg("queued", queue="billing", agent="jane",
                           attributes={"digitalOffered": "True", "digitalAccepted": "false"}),
                       leg("plain"), leg("xfer", method="TRANSFER", attributes=yes),
                       leg("chat", channel="CHAT", attributes=yes), leg("bad", attributes={"digitalOffered": "maybe"}))
    got = {k: (rows[k]["ChannelType"], rows[k]["IsDigitalOffered"], rows[k]["IsDigitalAccepted"]) for k in rows}
    assert got == {"ivr": ("IVR", True, True), "queued": ("VOICE", True, False), "plain": ("IVR", False, False),
                   "xfer": ("IVR", None, None), "chat": ("CHAT", None, None), "bad": ("IVR", None, False)}
    assert meta["invalid_values"]["digital_offered"] == 1


def test_csat_must_be_a_base_10_integer_1_to_5(con):
    """' 5 ' trims to 5; '3' -> 3; '9', '4.0', 'six', '0' -> null and 4 invalid; empty -> absent (not invalid)."""
    values = {"a": " 5 ", "b": "3", "c": "9", "d": "4.0", "e": "six", "f": "0", "g": "  "}
    rows, meta = build(con, *(leg(k, attributes={"csat": v}) for k, v in values.items()))
    assert {k: rows[k]["CSATScore"] for k in values} == {"a": 5, "b": 3, "c": None, "d": None, "e": None,
                                                         "f": None, "g": None}
    assert meta["invalid_values"]["csat"] == 4


def test_flags_short_abandon_and_sla_boundaries(con):
    """SLA 20, SHORT 5. ab4: abandoned after 4 s -> short (4 < 5), not within SLA band. ab5: 5 s -> not short,
    abandoned within SLA (5 <= 5 <= 20). ab20 within, ab21 not. an20: answered at exactly 20 -> within SLA;
    an21 not. out: OUTBOUND -> is_outbound. xfer: TRANSFER -> is_transfer_in. External rows: all 0."""
    rows, _ = build(con, *(leg(f"ab{s}", queue="q", queue_s=s) for s in (4, 5, 20, 21)),
                    leg("an20", queue="q", queue_s=20, agent="jane"), leg("an21", queue="q", queue_s=21, agent="jane"),
                    leg("out", method="OUTBOUND", agent="jane"), leg("xfer", method="QUEUE_TRANSFER", queue="q"),
                    sessions=[bot_session("wb")])
    names = ("is_queued", "is_answered", "is_abandoned", "is_short_abandon", "answered_within_sla",
             "abandoned_within_sla", "is_outbound", "is_transfer_in")
    got = {k: tuple(rows[k][n] for n in names) for k in rows}
    assert got["ab4"] == (1, 0, 1, 1, 0, 0, 0, 0)
    assert got["ab5"] == (1, 0, 1, 0, 0, 1, 0, 0)
    assert got["ab20"] == (1, 0, 1, 0, 0, 1, 0, 0)
    assert got["ab21"] == (1, 0, 1, 0, 0, 0, 0, 0)
    assert got["an20"] == (1, 1, 0, 0, 1, 0, 0, 0)
    assert got["an21"] == (1, 1, 0, 0, 0, 0, 0, 0)
    assert got["out"] == (0, 0, 0, 0, 0, 0, 1, 0)
    assert got["xfer"] == (1, 0, 1, 0, 0, 1, 0, 1)
    assert got["wb"] == (0,) * 8


def test_flag_sums_equal_teleopti_queue_statistics(con):
    """Summed per queue and 15-minute interval of enqueued_at, the flags equal the Teleopti counts."""
    legs = [leg(f"l{i}", f"09:{i * 3:02d}:00", queue=("billing", "tech")[i % 2], queue_s=2 + 3 * i,
                agent="jane" if i % 3 else None, next_contact="zz" if i == 4 else None) for i in range(12)]
    build(con, *legs)
    interval_stats.ensure_tables(con)
    interval_stats.build_queue_stats(con, at("09:00:00"), at("10:00:00"), 20, 5, "UTC")
    teleopti = con.execute("""SELECT interval_start::TIMESTAMP, queue, answ_call_cnt, aband_call_cnt,
                                     aband_short_call_cnt, ans_servicelevel_cnt, aband_within_sl_cnt
                              FROM teleopti_queue_stats ORDER BY 1, 2""").fetchall()
    jar = con.execute("""SELECT time_bucket(INTERVAL 15 MINUTE, enqueued_at), "AgentSkillId", sum(is_answered),
                                sum(is_abandoned), sum(is_short_abandon), sum(answered_within_sla),
                                sum(abandoned_within_sla)
                         FROM jar WHERE is_queued = 1 GROUP BY ALL ORDER BY 1, 2""").fetchall()
    assert jar == teleopti and len(jar) >= 4


def test_session_id_is_unique_and_an_updated_copy_replaces_its_row(con):
    """c1 staged twice (the later LastUpdateTimestamp carries csat 4): one row, CSATScore 4. A chatbot session
    whose id equals a ContactId does not add a second row (the Connect leg keeps the SessionId)."""
    stage(con, leg("c1", attributes={"csat": "2"}))
    stage(con, leg("c1", attributes={"csat": "4"}, updated_s=7200), batch="b2")
    rows, meta = build(con, sessions=[bot_session("c1"), bot_session("wb-9")])
    assert rows["c1"]["CSATScore"] == 4 and rows["c1"]["source"] == "connect"
    assert con.execute('SELECT count(*), count(DISTINCT "SessionId") FROM jar').fetchone() == (2, 2)
    assert meta["rows_by_source"] == {"connect": 1, "webchat": 1}


def test_timestamps_are_utc_without_offset(con):
    """An external session written with +01:00 is stored as the UTC wall time, TIMESTAMP type."""
    rows, _ = build(con, sessions=[bot_session("wb", started_at="2026-01-05T10:00:00+01:00",
                                               ended_at="2026-01-05T10:05:00+01:00")])
    assert rows["wb"]["SessionStartTime"] == datetime(2026, 1, 5, 9, 0)
    assert con.execute("SELECT typeof(\"SessionStartTime\") FROM jar").fetchone()[0] == "TIMESTAMP"
    crm(con, {})  # an empty CRM extract is fine too
    assert refresh_jar(con, settings(), AS_OF)["rows"] == 1
