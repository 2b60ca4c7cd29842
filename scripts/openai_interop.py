#!/usr/bin/env python3
"""Interoperability check of `deepseek serve` with the official `openai` Python client.

Usage: python3 scripts/openai_interop.py BASE_URL API_KEY

Runs chat and text completions, streamed and not, through `openai.OpenAI` against a running server
(`.ci/run` starts one on a tiny fixture model) and checks what the client parsed: text, finish reasons,
usage counts, streamed chunks that join to the non-streamed text under greedy decoding, log-probabilities,
and the client's error types for a wrong key and an invalid value. Exits non-zero on the first failure.
"""
import sys

import openai


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {message}")


def main():
    base_url, key = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)
    model = client.models.list().data[0].id
    check(bool(model), f"models.list names the model ({model})")

    greedy = dict(model=model, temperature=0, max_tokens=12, extra_body={"ignore_eos": True})
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say something."}]

    chat = client.chat.completions.create(messages=messages, **greedy)
    choice = chat.choices[0]
    check(chat.object == "chat.completion" and choice.message.role == "assistant", "chat completion parsed")
    check(choice.finish_reason == "length" and chat.usage.completion_tokens == 12, "chat finish reason and usage")
    check(chat.usage.total_tokens == chat.usage.prompt_tokens + 12, "chat usage adds up")

    stream = client.chat.completions.create(messages=messages, stream=True, stream_options={"include_usage": True}, **greedy)
    pieces, reasons, usage = [], [], None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for c in chunk.choices:
            if c.delta.content:
                pieces.append(c.delta.content)
            if c.finish_reason:
                reasons.append(c.finish_reason)
    check("".join(pieces) == choice.message.content, "streamed chat joins to the same text")
    check(reasons == ["length"] and usage is not None and usage.completion_tokens == 12, "streamed chat finish and usage")

    text = client.completions.create(prompt="Once upon a time", logprobs=2, **greedy)
    check(text.object == "text_completion" and text.choices[0].finish_reason == "length", "text completion parsed")
    lp = text.choices[0].logprobs
    check(len(lp.tokens) == 12 and len(lp.token_logprobs) == 12 and all(x <= 0 for x in lp.token_logprobs), "text completion logprobs")
    check("".join(lp.tokens) == text.choices[0].text, "logprob tokens join to the text")

    streamed = "".join(c.choices[0].text for c in client.completions.create(prompt="Once upon a time", stream=True, **greedy) if c.choices)
    check(streamed == text.choices[0].text, "streamed text completion joins to the same text")

    stopped = client.completions.create(prompt="Once upon a time", stop=[text.choices[0].text[3:5]], **greedy) if len(text.choices[0].text) > 5 else None
    if stopped is not None:
        check(stopped.choices[0].finish_reason == "stop", "a stop string ends the completion")

    try:
        openai.OpenAI(base_url=f"{base_url}/v1", api_key="wrong", max_retries=0).models.list()
        check(False, "a wrong key is refused")
    except openai.AuthenticationError:
        check(True, "a wrong key is refused (AuthenticationError)")
    try:
        client.completions.create(model=model, prompt="x", temperature=-3)
        check(False, "an invalid temperature is refused")
    except openai.BadRequestError as error:
        check("temperature" in str(error), "an invalid temperature is a BadRequestError naming it")
    print("openai interop: all checks passed")


if __name__ == "__main__":
    main()
