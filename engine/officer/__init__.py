"""Officer tools: what policy officers run on their YAML, without Python.

Job: officers' test cases (`casefile`), lint (`lint`), clause and branch coverage (`coverage`),
the difference between two versions and its impact on a round (`diff`).
May import: engine.core, engine.language, engine.deciding, engine.explaining, engine.records.
"""
