"""Vocabularies for believable, fictitious people, organisations and CRM values."""

FIRST_NAMES = [
    "Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Sara", "Anders", "Emma", "Per", "Elin", "Mikael",
    "Linnea", "Fredrik", "Ida", "Jonas", "Sofia", "Oskar", "Maja", "Gustav", "Hanna", "Viktor", "Alice",
    "Ahmed", "Fatima", "Ali", "Leila", "Jan", "Eva", "Nils", "Ingrid", "Magnus", "Julia", "Daniel", "Amira",
    "Tobias", "Elsa", "Samuel", "Nora", "Jakob", "Mohammed", "Zeynep", "Mateo", "Lucia", "Priya", "Wei",
    "Olga", "Kofi", "Aino", "Björn", "Åsa", "Jörgen", "Sanna", "Henrik", "Malin", "Patrik", "Cecilia",
]
LAST_NAMES = [
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
    "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Lindberg", "Lindqvist",
    "Berg", "Holm", "Ekström", "Lundgren", "Axelsson", "Sandberg", "Forsberg", "Sjöberg", "Nyström",
    "Ali", "Mohammed", "Hussein", "Yilmaz", "Novak", "Kowalski", "Nguyen", "Garcia", "Rossi", "Müller",
    "O'Brien", "Smith", "Virtanen", "Haddad", "Okafor", "Chen", "Patel", "Lindström", "Åberg",
]
SITES = ["Stockholm", "Gothenburg", "Malmö"]
TEAM_COLOURS = ["Blue", "Green", "Red", "Orange", "Purple", "Yellow", "Teal", "Silver", "Gold", "Indigo",
                "Coral", "Olive"]

INTENTS = {
    "BILLING": ["DISPUTE_CHARGE", "PAYMENT_PLAN", "INVOICE_COPY", "REFUND_STATUS", "BALANCE_INQUIRY"],
    "SUPPORT": ["TECHNICAL_ISSUE", "PASSWORD_RESET", "ORDER_STATUS", "CHANGE_ADDRESS", "CARD_BLOCKED"],
    "SALES": ["NEW_PRODUCT", "UPGRADE", "PRICING_QUESTION", "LOAN_APPLICATION"],
    "RETENTION": ["CANCEL_SERVICE", "COMPLAINT", "CONTRACT_RENEWAL"],
}
WRAP_UP_NOTES = [
    "Customer asked about last invoice; explained fees.",
    "Reset online banking password, verified identity.",
    "Escalated to back office, ticket {INC-4471}{P2}.",
    "Customer unhappy with \"late fee\", waived once.",
    "Promised call-back tomorrow re: mortgage offer.",
    "Card blocked after suspected fraud; new card ordered.",
    "Upgrade offered, customer will think about it.",
    "Adressändring genomförd, kund nöjd.",
    "Payment plan set up: 3 × 1 200 SEK.",
    "No action needed, informational call.",
]

OCCUPATIONS = ["Engineer", "Teacher", "Nurse", "Sales Associate", "Manager", "Student", "Retired",
               "Consultant", "Electrician", "Accountant", "Chef", "Driver", "Designer", "Physician",
               "Software Developer", "Carpenter", "Civil Servant", "Entrepreneur"]
MARITAL = ["Single", "Married", "Divorced", "Widowed", "Cohabiting"]
ETHNICITY = ["White", "Asian", "Black", "Mixed", "Other", "Prefer not to say"]
EMPLOYMENT = ["Full-time", "Part-time", "Self-employed", "Unemployed", "Retired", "Student"]
SWEDISH_REGIONS = ["Stockholm", "Västra Götaland", "Skåne", "Uppsala", "Östergötland", "Halland",
                   "Jönköping", "Västerbotten", "Dalarna", "Norrbotten", "Gävleborg", "Värmland"]
FOREIGN = [("Norway", "Oslo"), ("Denmark", "Hovedstaden"), ("Finland", "Uusimaa"), ("Germany", "Berlin")]
US_REGIONS = ["Washington", "Oregon", "California"]
US_AREA_CODES = ["206", "253", "360", "425", "503", "509", "971", "415", "510", "650"]
PRODUCTS = ["Current Account", "Savings Account", "Credit Card", "Mortgage", "Personal Loan",
            "Car Insurance", "Home Insurance", "Pension Plan", "Investment Account", "Business Account"]
RESTRICTIONS = ["KYC_REVIEW", "LEGAL_HOLD", "DECEASED_HOLD", "SANCTIONS_CHECK", "DEBT_COLLECTION"]
EXTERNAL_NUMBERS = ["+46771123400", "+46856480000", "+12065550199", "+46313456700"]
