"""Explaining: a `Decision` -> words a reviewer reads, in zh and en, citing clauses verbatim.

Job: the words (`catalogue`: the message catalogues in `messages/`; `labels`: the one formatter of values),
the one explanation builder (`explainer`, fed recorded decisions by `recorded`), its writers (`textwriter`:
plain text; `model`: the format-neutral explanation, written as Markdown and HTML by `templates/`), and the
renderer, `explain` and the report (`render`); a policy's own templates run in the language's sandbox
(`engine.language.templating`).
May import: engine.core, engine.language, engine.deciding.
"""
