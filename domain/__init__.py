"""The domain: tables, services, plain exceptions and the database session.

It imports only `policy` (pure rules) and third-party libraries, so the action
server and the gateway share it without FastAPI; HTTP lives in `api/`.
"""

# Every table is known as soon as any part of the domain is imported: relationships
# name their other side by class name (Claim.promises), which SQLAlchemy resolves at
# the first query, and Alembic compares against all of `Base.metadata`.
from domain import tables as tables
