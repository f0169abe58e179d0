"""Language models as proposers: a client of any OpenAI-compatible chat endpoint, search/replace edits confined to
a program's EVOLVE blocks, the prompts (plain text in ``prompts/``) and the proposer's memory of what was tried."""

from evoforge.llm._client import ChatClient, Endpoint, LLMError, Message, Reply, Usage, estimate_tokens
from evoforge.llm._edits import (
    Edit,
    EditError,
    apply_edits,
    apply_reply,
    parse_edits,
    static_check,
    summary,
    unified_diff,
)
from evoforge.llm._history import History, Spend
from evoforge.llm._prompt import Attempt, Context, messages, retry

__all__ = [
    "Attempt",
    "ChatClient",
    "Context",
    "Edit",
    "EditError",
    "Endpoint",
    "History",
    "LLMError",
    "Message",
    "Reply",
    "Spend",
    "Usage",
    "apply_edits",
    "apply_reply",
    "estimate_tokens",
    "messages",
    "parse_edits",
    "retry",
    "static_check",
    "summary",
    "unified_diff",
]
