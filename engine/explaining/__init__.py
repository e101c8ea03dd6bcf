"""Explaining: a `Decision` -> words a reviewer reads, in zh and en, citing clauses verbatim.

Job: the message catalogues (`messages/`), templates (`templates/`), the renderer and its fast
plain-text path (`render`); a policy's own templates run in the language's sandbox (`engine.language.templating`).
May import: engine.core, engine.language, engine.deciding.
"""
