-- The CAR's 29 seed variables, spelled and ordered as the seed has them (sensitive ones only with the setting).
SELECT
    "Cust_ID", "Occupation", "Age", "MaritalStatus", "Ethnicity", "GrossAnnualIncome", "EmploymentType",
    "CountryName", "Region", "Tenure", "OverallRevenue", "CommonChannels", "Device", "Product 1", "Product 2",
    "Product 3", "HighRiskCustomer", "CustomerRestriction", "BranchNumber", "CustomerSegmentID", "GlobalCustomerID",
    "CustomerCountryRelationship", "VVIP", "PremierCustomer", "CommercialorPersonal", "IsDigitalEligible",
    "BranchVisits", "FinancialRiskCustomer", "NumberofTotalProducts"
FROM main.car
