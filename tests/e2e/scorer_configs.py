"""The code scorers that the end-to-end tests and the benchmarks configure,
written once. The five are the scorers of the built-in default config
(worker/config/config.cpp, README "Configuration").

A test script imports it like e2e_common (its own folder on sys.path); a bench
script puts tests/e2e on sys.path first:

    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    from scorer_configs import FIVE_SCORERS  # noqa: E402

    CONFIG = "pipeline: {batch_size: 2000}\n" + FIVE_SCORERS
"""

# One YAML flow mapping per scorer, by name, in the default config's order.
SCORERS = {
    "json": "{name: json, type: format, json: true, when: {expected_format: json}}",
    "refusal": "{name: refusal, type: refusal}",
    "length": "{name: length, type: length, max_words: 400}",
    "pii": "{name: pii, type: pii_leak}",
    "truncation": "{name: truncation, type: truncation}",
}


def scorer_items(*names):
    """The list items ("  - {...}" lines) of the named scorers, all five when
    none are named, for appending under a `scorers:` key."""
    return "".join("  - %s\n" % SCORERS[n] for n in (names or SCORERS))


def scorers_block(*names):
    """A top-level `scorers:` block with the named scorers (all five when none
    are named)."""
    return "scorers:\n" + scorer_items(*names)


FIVE_SCORERS = scorers_block()


def one_judge(base, concurrency, key_env="ASSAY_E2E_JUDGE_KEY", timeout_ms=20000,
              rubric="rubrics/helpfulness.yaml"):
    """`judges:` and `scorers:` blocks with one OpenAI-wire judge `primary` on
    the fake provider at `base` (no retries, cache off, `concurrency` calls in
    flight, its key in the variable `key_env`) and one judge scorer `helpful`
    on every trace (sample_rate 1)."""
    return f"""judges:
  - name: primary
    provider: openai
    base_url: {base}/v1
    model: gpt-4o-mini-2024-07-18
    api_key_env: {key_env}
    max_retries: 0
    max_concurrency: {concurrency}
    cache: false
    timeout_ms: {timeout_ms}
scorers:
  - {{name: helpful, type: judge, rubric: {rubric}, judges: [primary], sample_rate: 1}}
"""
