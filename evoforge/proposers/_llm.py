"""A language model proposes each change: search/replace edits of a user's program, confined to its EVOLVE blocks."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from evoforge._errors import GoalError
from evoforge.design import Design
from evoforge.goal import Search
from evoforge.llm import (
    ChatClient,
    EditError,
    Endpoint,
    History,
    LLMError,
    Message,
    Spend,
    apply_reply,
    messages,
    retry,
    static_check,
    summary,
    unified_diff,
)
from evoforge.proposers._base import Proposal, Proposer, ProposerExhausted, Values
from evoforge.spaces import CodeSpace, Space

OPERATOR = "llm_edit"


class LLMProposer(Proposer):
    """Asks an OpenAI-compatible chat endpoint for an edit of a good program, shown with its score, its ancestors,
    the best other programs and what was already tried. The first trial is the program as written.

    A reply that cannot be applied (no edit, a SEARCH text not found or found twice, a change outside the EVOLVE
    blocks, a program already tried) is counted, fed back to the model with the reason, and another is asked for,
    up to ``attempts_per_proposal`` replies. ``ask`` raises ``ProposerExhausted`` when a cap on requests (every HTTP
    request, retries included), tokens or cost is reached, when the endpoint keeps failing or refuses the request,
    or when no reply of a proposal could be used. Each proposal's ``info`` holds the prompt, the reply, the diff,
    the rejected replies and the spend, so replaying ``tell`` rebuilds every count."""

    name = "llm"

    def __init__(
        self,
        space: Space,
        seed: int,
        start_from: Design | None = None,
        endpoint: Endpoint | None = None,
        *,
        max_requests: int | None = None,
        max_tokens: int | None = None,
        max_cost_usd: float | None = None,
        price_per_1k_input: float = 0.0,
        price_per_1k_output: float = 0.0,
        temperature: float = 0.7,
        max_reply_tokens: int | None = 4096,
        timeout_s: float = 120.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        attempts_per_proposal: int = 3,
        parent_pool: int = 3,
        inspirations: int = 2,
        history: int = 8,
    ) -> None:
        if not isinstance(space, CodeSpace):
            raise GoalError(
                f"search.proposer: llm edits a program (task user_code), not designs of the {space.name} space"
            )
        if endpoint is None:
            raise ValueError("proposer llm needs an endpoint: search.base_url and search.model")
        super().__init__(space, seed, start_from)
        _check_numbers(
            (max_requests, 1, True, "max_requests"),
            (max_tokens, 1, True, "max_tokens"),
            (max_cost_usd, 1e-12, False, "max_cost_usd"),
            (price_per_1k_input, 0, False, "price_per_1k_input"),
            (price_per_1k_output, 0, False, "price_per_1k_output"),
            (temperature, 0, False, "temperature"),
            (max_reply_tokens, 1, True, "max_reply_tokens"),
            (timeout_s, 1e-3, False, "timeout_s"),
            (retries, 0, True, "retries"),
            (backoff_s, 0, False, "backoff_s"),
            (attempts_per_proposal, 1, True, "attempts_per_proposal"),
            (parent_pool, 1, True, "parent_pool"),
            (inspirations, 0, True, "inspirations"),
            (history, 0, True, "history"),
        )
        if max_cost_usd is not None and not (price_per_1k_input or price_per_1k_output):
            raise ValueError("max_cost_usd needs price_per_1k_input or price_per_1k_output: cost is counted from them")
        self.code = space
        self.caps = {"requests": max_requests, "tokens": max_tokens, "cost_usd": max_cost_usd}
        endpoint = replace(
            endpoint,
            temperature=temperature,
            max_reply_tokens=max_reply_tokens,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
            price_per_1k_input=price_per_1k_input,
            price_per_1k_output=price_per_1k_output,
        )
        self.client = ChatClient(endpoint)
        self.attempts = attempts_per_proposal
        self.memory = History(space, parent_pool, inspirations, history)

    @classmethod
    def from_search(cls, search: Search, space: Space, start_from: Design | None = None) -> LLMProposer:
        if search.base_url is None or search.model is None:
            raise GoalError("search: proposer llm needs base_url and model")
        endpoint = Endpoint(search.base_url, search.model, os.environ.get(search.api_key_env) or None)
        return cls(space, search.seed, start_from, endpoint, **search.proposer_options())

    # -- proposing ----------------------------------------------------------------------------------------------------
    def ask(self, number: int) -> Proposal:
        if self.memory.empty:
            first = self.start_from or self.code.seed
            proposal = Proposal(first, (), None, "the program as written", {"route": "seed"})
        else:
            self._check_caps()
            parent = self.memory.parent(self.rng(number))
            if parent is None:
                raise ProposerExhausted(
                    "no program has a result to improve on: the program as written failed or broke a constraint "
                    "(evoforge trials --state failed says why)"
                )
            proposal = self._converse(parent, messages(self.memory.context(parent)))
        self.memory.asked(number, proposal.design, proposal.parents, proposal.rationale, proposal.info)
        return proposal

    def _converse(self, parent: int, conversation: list[Message]) -> Proposal:
        spend = Spend()
        rejected: list[dict[str, str]] = []
        parent_design = self.memory.design(parent)
        for _ in range(self.attempts):
            self._check_caps(spend)
            try:
                reply = self.client.complete(conversation, self._requests_left(spend))
            except LLMError as exc:
                self.memory.lost = self.memory.lost.plus(spend).plus(Spend(requests=exc.attempts))
                raise ProposerExhausted(f"the language model at {self.client.endpoint.base_url}: {exc}") from None
            spend = spend.plus(Spend.of(reply))
            try:
                design = apply_reply(self.code, parent_design, reply.text)
                self.memory.check_new(design)
            except EditError as exc:
                rejected.append({"reply": reply.text, "reason": str(exc)})
                spend = spend.plus(Spend(malformed=1))
                conversation = [*conversation, *retry(reply.text, str(exc))]
                continue
            info: dict[str, Any] = {
                "route": "llm",
                "model": self.client.endpoint.model,
                "prompt": conversation,
                "reply": reply.text,
                "diff": unified_diff(self.code, parent_design, design),
                "static_check": static_check(self.code, design),
                "rejected": rejected,
                "spend": spend.as_dict(),
            }
            return Proposal(design, (parent,), OPERATOR, summary(reply.text), info)
        self.memory.lost = self.memory.lost.plus(spend)
        raise ProposerExhausted(
            f"the language model gave {self.attempts} replies in a row that could not be used "
            f"(last: {rejected[-1]['reason']}); raise search.options.attempts_per_proposal or try another model"
        )

    def _requests_left(self, spend: Spend) -> int | None:
        cap = self.caps["requests"]
        return None if cap is None else int(cap) - self.memory.total().plus(spend).requests

    def _check_caps(self, extra: Spend | None = None) -> None:
        total = self.memory.total().plus(extra or Spend())
        spent = {"requests": total.requests, "tokens": total.tokens, "cost_usd": total.cost_usd}
        for name, cap in self.caps.items():
            if cap is not None and spent[name] >= cap:
                raise ProposerExhausted(
                    f"language-model cap reached: {spent[name]:.6g} {name.replace('cost_usd', 'USD')} spent of "
                    f"search.options.max_{name} {cap:g}"
                )

    # -- learning -----------------------------------------------------------------------------------------------------
    def tell(self, number: int, design: Design, values: Values | None, proposal: Proposal | None = None) -> None:
        if number not in self.memory.entries:  # replayed from the store (a resumed study)
            p = proposal or Proposal(design, (), None, "")
            self.memory.asked(number, design, p.parents, p.rationale, p.info)
        self.memory.told(number, values)

    def insights(self) -> dict[str, Any]:
        total = self.memory.total()
        return {"llm": {"model": self.client.endpoint.model, "proposals": self.memory.proposals, **total.as_dict()}}


def _check_numbers(*checks: tuple[Any, float, bool, str]) -> None:
    """Each (value, lowest allowed, whole number?, option name); None passes for a cap (no cap). One line names a
    bad one."""
    for value, low, whole, name in checks:
        kind = int if whole else (int, float)
        if value is None and name.startswith("max_"):
            continue
        if isinstance(value, bool) or not isinstance(value, kind) or value < low:
            expected = "a whole number" if whole else "a number"
            bound = f"of {low:g} or more" if low >= 1 or low == 0 else "above 0"
            raise ValueError(f"{name}: expected {expected} {bound}, got {value!r}")
