"""Matching: what an applicant can claim, from what is already known of it (免申即享).

Job: a profile (any subset of a claim's facts) against every rule of every policy version in force, three
answers per rule -- eligible (amount or exact range), not eligible (the failing clause), needs (the facts that
would decide it, the documents to prepare, the range if they come out favourably) -- with `unknown` kept
unknown all the way (`matcher`); the one interval evaluation of amounts, caps and ceilings (`ranges`); the
notices, workbook and JSON Lines (`outputs`); the streaming run over many profiles on several workers (`run`).
It stands beside the officer's tools: it decides nothing itself, every status comes from the one evaluator.
May import: engine.core, engine.language, engine.deciding, engine.explaining, engine.records.
"""
