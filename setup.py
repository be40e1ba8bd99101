from setuptools import find_packages, setup

setup(
    name="cc_reporting",
    version="0.1.0",
    description="Amazon Connect contact-center reporting on Dagster and DuckDB: Teleopti WFM feed, CAR/JAR, KPIs, RTA",
    packages=find_packages(exclude=["cc_reporting_tests*"]),
    package_data={"cc_reporting": ["*.yaml", "**/*.yaml", "**/*.sql", "**/*.html"]},
    python_requires=">=3.10",
    install_requires=[
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-aws==0.29.27",
        "dagster-duckdb==0.29.27",
        "dagster-dg-cli==1.13.27",  # `dg dev` / `dg check defs`: the project's dg layout (pyproject.toml)
        "duckdb>=1.1",
        "pyarrow>=14",
        "pandas>=2.0",
        "boto3",
        "paramiko>=3.4",
        "pyyaml",
        "tqdm",
        "pytz",
        "msgspec>=0.18",  # the fast path of the Firehose decoder (cc_reporting/ingest/firehose.py)
        "numpy",  # the simulator and the Firehose decoder's record cuts
    ],
    extras_require={
        "dev": ["pytest", "pytest-xdist", "moto[server]>=5.2", "asyncssh>=2.14", "hypothesis",
                "ruff>=0.6", "sqlfluff>=3.2"],
    },
    entry_points={"console_scripts": ["cc-reporting=cc_reporting.cli:main"]},
)
