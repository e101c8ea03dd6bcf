"""RFC 9457 problem details (application/problem+json), titled in Chinese or English for the officer reading them.

Every answer that is not a success is one of these: `type` names the kind (`urn:policy-engine:problem:<kind>`),
`title` and `detail` are in the caller's language (`?lang=zh|en`, else Accept-Language, else Chinese), and
`problems` carries the located problems the command line prints (file, line, column, path, message, expected).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from engine.core.errors import Problem

LANGS = ("zh", "en")
MEDIA = "application/problem+json"

#: kind -> (status, {lang: title})
KINDS: dict[str, tuple[int, dict[str, str]]] = {
    "invalid-claim": (422, {"zh": "申请数据有误", "en": "The application is not valid"}),
    "invalid-json": (400, {"zh": "请求体不是有效的 JSON", "en": "The request body is not valid JSON"}),
    "invalid-request": (400, {"zh": "请求有误", "en": "The request is not valid"}),
    "slow-body": (408, {"zh": "请求体发送超时", "en": "The request body came too slowly"}),
    "too-large": (413, {"zh": "请求体过大", "en": "The request body is too large"}),
    "too-many-items": (422, {"zh": "申报事项过多", "en": "Too many items in one application"}),
    "timeout": (503, {"zh": "处理超时", "en": "The request took too long"}),
    "unauthorized": (401, {"zh": "需要登录令牌", "en": "A bearer token is needed"}),
    "forbidden": (403, {"zh": "无此权限", "en": "This token may not do that"}),
    "not-found": (404, {"zh": "未找到", "en": "Not found"}),
    "method-not-allowed": (405, {"zh": "不支持该请求方法", "en": "Method not allowed"}),
    "no-ledger": (409, {"zh": "服务未配置台账", "en": "The service has no ledger"}),
    "already-committed": (409, {"zh": "该申请已以不同内容入账", "en": "The application is committed with other content"}),
    "ledger-refused": (422, {"zh": "台账拒绝了该操作", "en": "The ledger refused the action"}),
    "invalid-policies": (422, {"zh": "政策文件有误，仍使用原有政策", "en": "The policies are not valid; the old set stays in force"}),
    "not-ready": (503, {"zh": "服务尚未就绪", "en": "The service is not ready"}),
    "busy": (503, {"zh": "正在运行的批次过多", "en": "Too many rounds are running"}),
    "internal": (500, {"zh": "服务内部错误", "en": "Internal error"}),
}


def pick_lang(query: Mapping[str, str], accept_language: str | None) -> str:
    """`?lang=` if it names zh or en; else the first of Accept-Language's languages that is zh or en; else zh."""
    asked = query.get("lang")
    if asked in LANGS:
        return asked
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in LANGS:
            return tag[:2]
    return "zh"


def problem_body(
    kind: str, lang: str, detail: str | None = None, problems: Iterable[Problem] = (), instance: str | None = None, **extra: Any
) -> tuple[int, bytes]:
    status, titles = KINDS[kind]
    body: dict[str, Any] = {"type": f"urn:policy-engine:problem:{kind}", "title": titles.get(lang, titles["zh"]), "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    listed = [p.to_dict() for p in problems]
    if listed:
        body["problems"] = listed
    body.update(extra)
    return status, json.dumps(body, ensure_ascii=False).encode("utf-8")


#: Details the service writes itself (the engine's own problems carry their own words).
DETAILS: dict[str, dict[str, str]] = {
    "body_limit": {"zh": "请求体超过 {limit} 字节上限", "en": "the request body is over the limit of {limit} bytes"},
    "items_limit": {"zh": "一份申请最多 {limit} 个事项，收到 {count} 个", "en": "at most {limit} items per application; {count} given"},
    "timeout": {"zh": "超过 {limit} 秒时限，未处理完", "en": "not done within the limit of {limit} seconds"},
    "slow_body": {"zh": "请求体未在 {limit} 秒内收完", "en": "the request body was not received within {limit} seconds"},
    "no_token": {"zh": "请在 Authorization 头中提供 Bearer 令牌", "en": "send a bearer token in the Authorization header"},
    "bad_token": {"zh": "令牌无效", "en": "the token is not valid"},
    "needs_role": {"zh": "此操作需要 {role} 角色", "en": "this needs the {role} role"},
    "no_ledger": {"zh": "以 --ledger 启动服务后才能使用台账", "en": "start the service with --ledger to use the ledger"},
    "not_json": {"zh": "第 {line} 行第 {column} 列：{message}", "en": "line {line} column {column}: {message}"},
    "bad_param": {
        "zh": "参数 {name} 的值 {value!r} 无效，应为 {expected}",
        "en": "parameter {name}: {value!r} is not valid; expected {expected}",
    },
    "no_route": {"zh": "没有这个地址：{path}", "en": "no such address: {path}"},
}


def detail(key: str, lang: str, **values: Any) -> str:
    return DETAILS[key].get(lang, DETAILS[key]["zh"]).format(**values)
