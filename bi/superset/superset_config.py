"""Superset configuration for the credit_scoring dashboard (read by run.sh).

Everything mutable lives in SUPERSET_HOME (run.sh points it into the cache
directory, outside the repository): the SQLite metadata database and the
secret key that encrypts the stored database password.
"""

import os

_home = os.environ["SUPERSET_HOME"]

with open(os.path.join(_home, "secret_key"), encoding="ascii") as _f:
    SECRET_KEY = _f.read().strip()

SQLALCHEMY_DATABASE_URI = (
    "sqlite:///" + os.path.join(_home, "superset.db") + "?check_same_thread=false"
)

# A dashboard of a dozen charts on one machine: render them all at once
# rather than as they scroll into view (the test screenshots the whole page).
FEATURE_FLAGS = {"DASHBOARD_VIRTUALIZATION": False}

# Only ever served on 127.0.0.1 by run.sh; no example data.
SUPERSET_LOAD_EXAMPLES = False
LOG_LEVEL = "WARNING"
