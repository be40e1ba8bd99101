"""The CRM: a customer master with fictitious people and phone numbers, its CSV extract, and who calls.

Known customers call from their CRM `PhoneNumber`; a few CRM numbers are shared by two customers (a
household), a few customers have none. Callers not in the CRM use numbers from ranges the CRM never
uses. Who contacts the centre is skewed: a small set of frequent customers contacts it again and again.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from . import names as sim_names

CRM_HEADER = ["Cust_ID", "Occupation", "Age", "MaritalStatus", "Ethnicity", "GrossAnnualIncome",
              "EmploymentType", "CountryName", "Region", "Tenure", "OverallRevenue", "Product 1", "Product 2",
              "Product 3", "HighRiskCustomer", "CustomerRestriction", "BranchNumber", "CustomerSegmentID",
              "GlobalCustomerID", "CustomerCountryRelationship", "VVIP", "PremierCustomer",
              "CommercialorPersonal", "IsDigitalEligible", "BranchVisits", "FinancialRiskCustomer",
              "NumberofTotalProducts", "PhoneNumber"]


@dataclass
class Crm:
    ids: list  # Cust_ID
    phones: list  # E.164 or "" (no number on file)
    country: np.ndarray  # 0 Sweden, 1 United States, 2 other
    frequent: np.ndarray  # indices of frequent contacters


def _unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    if n > (high - low) // 2:
        raise ValueError(f"cannot draw {n} distinct values from [{low}, {high})")
    values = np.unique(rng.integers(low, high, size=int(n * 1.1) + 16))
    while values.size < n:
        values = np.unique(np.concatenate([values, rng.integers(low, high, size=n)]))
    return rng.permutation(values)[:n]


def build_crm(rng: np.random.Generator, n: int) -> Crm:
    ids = [f"C{v:07d}" for v in _unique_ints(rng, n, 1, 9_000_000)]  # unknown customers use C9xxxxxx
    kind = rng.choice(3, size=n, p=[0.90, 0.07, 0.03])
    se = _unique_ints(rng, n, 0, 20_000_000)  # +4670… / +4672… mobiles
    n_us = int((kind == 1).sum())
    us_space = 10_000 * len(sim_names.US_AREA_CODES)
    us = iter(_unique_ints(rng, n_us, 0, us_space) if n_us <= us_space // 2 else rng.integers(0, us_space, n_us))
    phones = []
    for i in range(n):
        v = int(se[i])
        if kind[i] == 0:
            phones.append(f"+467{'02'[v % 2]}{v // 2:07d}")
        elif kind[i] == 1:
            u = int(next(us))
            codes = sim_names.US_AREA_CODES
            phones.append(f"+1{codes[u % len(codes)]}555{u // len(codes):04d}")
        else:
            phones.append(f"+479{v % 10_000_000:07d}")  # Norway etc.
    for i in np.flatnonzero(rng.random(n) < 0.02):
        phones[i] = ""
    for i in np.flatnonzero(rng.random(n) < 0.005):  # households sharing a number
        phones[i] = phones[int(rng.integers(0, n))]
    frequent = rng.choice(n, size=max(1, n // 20), replace=False)
    return Crm(ids, phones, kind, frequent)


def pick_customers(rng: np.random.Generator, crm: Crm, k: int) -> np.ndarray:
    """Customer indices for `k` contacts: 85 % any customer, 15 % the frequent few (repeat contacts)."""
    any_ = rng.integers(0, len(crm.ids), size=k)
    freq = crm.frequent[rng.integers(0, crm.frequent.size, size=k)]
    return np.where(rng.random(k) < 0.15, freq, any_)


def unknown_customer_id(rng: np.random.Generator) -> str:
    return f"C9{int(rng.integers(0, 1_000_000)):06d}"


def anonymous_phone(rng: np.random.Generator) -> str:
    v = int(rng.integers(0, 10_000_000))
    return f"+4676{v:07d}" if v % 5 else f"+4915{v:07d}1"


def crm_csv(rng: np.random.Generator, crm: Crm) -> bytes:
    n = len(crm.ids)
    pick = lambda seq, p=None: [seq[i] for i in rng.choice(len(seq), size=n, p=p)]  # noqa: E731
    boolean = lambda rate: np.where(rng.random(n) < rate, "true", "false")  # noqa: E731
    age = np.clip(rng.normal(46, 16, n), 18, 95).astype(int)
    income = np.round(rng.lognormal(12.9, 0.5, n), 2)
    revenue = np.round(rng.lognormal(7.5, 1.2, n), 2)
    tenure = rng.integers(0, 420, n)
    n_products = np.clip(rng.poisson(2.2, n), 1, 9)
    products = rng.integers(0, len(sim_names.PRODUCTS), (n, 3))
    occupation, marital = pick(sim_names.OCCUPATIONS), pick(sim_names.MARITAL)
    ethnicity, employment = pick(sim_names.ETHNICITY), pick(sim_names.EMPLOYMENT, [0.55, 0.15, 0.1, 0.05, 0.1, 0.05])
    se_region = pick(sim_names.SWEDISH_REGIONS)
    foreign = pick(sim_names.FOREIGN)
    us_region = pick(sim_names.US_REGIONS)
    restriction = np.where(rng.random(n) < 0.04, np.array(sim_names.RESTRICTIONS)[rng.integers(0, 5, n)], "")
    branch = rng.integers(1, 480, n)
    segment = rng.integers(1, 13, n)
    gcid = rng.integers(0, 2**40, n)
    high_risk, vvip, premier = boolean(0.03), boolean(0.004), boolean(0.06)
    digital, fin_risk = boolean(0.82), boolean(0.04)
    commercial = np.where(rng.random(n) < 0.12, "COMMERCIAL", "PERSONAL")
    visits = rng.poisson(1.8, n)
    missing = rng.random((n, 4)) < 0.015  # sparse gaps, as in any real extract

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CRM_HEADER)
    for i in range(n):
        if crm.country[i] == 0:
            country, region, rel = "Sweden", se_region[i], "DOMESTIC"
        elif crm.country[i] == 1:
            country, region, rel = "United States", us_region[i], "FOREIGN"
        else:
            (country, region), rel = foreign[i], "FOREIGN"
        prods = []
        for p in products[i]:
            name = sim_names.PRODUCTS[p]
            if name not in prods:
                prods.append(name)
        prods = (prods[: min(3, int(n_products[i]))] + ["", "", ""])[:3]
        writer.writerow([
            crm.ids[i], "" if missing[i, 0] else occupation[i], "" if missing[i, 1] else int(age[i]),
            marital[i], ethnicity[i], "" if missing[i, 2] else f"{income[i]:.2f}", employment[i], country,
            region, int(tenure[i]), f"{revenue[i]:.2f}", prods[0], prods[1], prods[2], high_risk[i],
            restriction[i], f"{branch[i]:04d}", f"SEG{segment[i]:02d}", f"GC-{gcid[i]:010X}", rel, vvip[i],
            premier[i], commercial[i], digital[i], "" if missing[i, 3] else int(visits[i]), fin_risk[i],
            max(int(n_products[i]), sum(1 for p in prods if p)), crm.phones[i],
        ])
    return out.getvalue().encode("utf-8")
