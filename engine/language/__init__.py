"""The policy language: policy text -> a validated, compiled, immutable `CompiledPolicy`.

Job: read YAML with positions and limits (`source`), check it against the policy JSON Schema
(`validate`), compile allow-listed expressions (`expressions`), check meaning and build the model
(`compiler`, `model`), the sandbox a policy's own templates are checked at load and run in
(`templating`), and the load pipeline (`load`).
May import: engine.core.
"""
