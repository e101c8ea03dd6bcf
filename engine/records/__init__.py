"""Records: many claims in, decisions and grants out.

Job: claim files (`inputs`), JSON Lines / CSV / XLSX readers and writers (`tabular`), the grants
ledger on SQLite or PostgreSQL (`ledger`), batch runs with summaries and the reviewer's report (`batch`).
May import: engine.core, engine.language, engine.deciding, engine.explaining.
"""
