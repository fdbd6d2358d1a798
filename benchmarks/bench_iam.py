"""How fast the local IAM evaluator decides: a whole role's DRS check against one AWS round trip.

Run: .venv/bin/python benchmarks/bench_iam.py
Measures CPU time (the machine may be shared: wall time would measure waiting), side by side in
one run, decisions per second for the full DRS action set (every action of every orchestrator role
kind) against
  - a role of 10 policies x 20 statements with conditions (the heavy case), and
  - a role of one plain statement (the floor),
asked four ways: a role check in a context never seen before (every statement worked out afresh),
the same request again (what the sandbox does call after call), one request at a time, and parse
plus check (policies parsed afresh, as diagnose does once per role). One AWS API round trip is
assumed to take ~50 ms.
"""

from __future__ import annotations

import itertools
import random
import time
import timeit
from collections.abc import Callable

from drsdoctor.iam.drs_needs import ROLE_KINDS, actions_for
from drsdoctor.iam.evaluate import PolicySet, Request, evaluate, evaluate_all
from drsdoctor.iam.policy import clear_parse_cache, parse_policy

ROUND_TRIP_MS = 50.0
IDLE_REFERENCE_US = 0.40  # the reference loop below on an idle ~3 GHz core (CPython 3.11)
ACCOUNT = "111122223333"
DRS_ACTIONS = list(dict.fromkeys(action for kind in ROLE_KINDS for action in actions_for(kind)))
OTHER_ACTIONS = ["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "sns:Publish", "kms:Decrypt",
                 "ssm:GetParameter", "secretsmanager:GetSecretValue", "cloudwatch:PutMetricData"]
PATTERNS = ["drs:Describe*", "ec2:Describe*", "ec2:*Volume*", "dynamodb:Get*", "logs:*", "ec2:Create*"]
CONDITIONS = [
    {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}},
    {"StringLike": {"aws:PrincipalTag/team": "dr-*"}},
    {"IpAddressIfExists": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["dr-*", "wave"]}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/drs-*"}},
    {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
    {"StringNotEquals": {"aws:PrincipalTag/env": "sandbox"}},
]
CONTEXT: dict[str, str | list[str]] = {
    "aws:RequestedRegion": "us-east-1", "aws:PrincipalTag/team": "dr-core", "aws:SourceIp": "10.1.2.3",
    "aws:SecureTransport": "true", "aws:TagKeys": ["dr-wave"], "aws:CurrentTime": "2026-11-27T10:00:00Z",
    "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/drs-orchestration", "aws:PrincipalTag/env": "prod",
}


def heavy_documents(seed: int = 7) -> list[dict]:
    """10 policies x 20 statements: mixed actions and wildcards, scoped resources, a condition each."""
    rng = random.Random(seed)
    documents = []
    for p in range(10):
        statements = []
        for s in range(20):
            pool = DRS_ACTIONS + OTHER_ACTIONS + PATTERNS
            statement: dict = {"Sid": f"P{p}S{s}", "Effect": "Deny" if s == 19 else "Allow",
                               "Action": rng.sample(pool, rng.randint(2, 6)),
                               "Resource": rng.choice(["*", f"arn:aws:dynamodb:*:{ACCOUNT}:table/dr-*",
                                                       f"arn:aws:s3:::dr-runbooks-{p}/${{aws:username}}/*"]),
                               "Condition": rng.choice(CONDITIONS)}
            if s == 19:  # one guard Deny per policy that never fires in this context
                statement["Condition"] = {"StringEquals": {"aws:RequestedRegion": "ap-south-1"}}
            statements.append(statement)
        documents.append({"Version": "2012-10-17", "Statement": statements})
    return documents


PLAIN = [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]


def role(documents: list[dict], uncached: bool = False) -> PolicySet:
    if uncached:  # measure parsing itself, not the parse cache
        clear_parse_cache()
    return PolicySet(identity=[parse_policy(d, f"policy{i}") for i, d in enumerate(documents)])


def role_check(policies: PolicySet, context: dict[str, str | list[str]] = CONTEXT) -> int:
    """A whole role's DRS check: every action, one resource and context (evaluate_all)."""
    return sum(decision.allowed for decision in evaluate_all(policies, DRS_ACTIONS, "*", context))


def one_by_one(policies: PolicySet) -> int:
    """The same actions as separate requests (evaluate), as the sandbox authorises single calls."""
    return sum(evaluate(policies, Request(action, "*", CONTEXT)).allowed for action in DRS_ACTIONS)


_SECOND = itertools.count()


def fresh_context() -> dict[str, str | list[str]]:
    """The bench context with a new clock: nothing a previous check worked out can be reused."""
    return {**CONTEXT, "aws:CurrentTime": f"2026-11-27T10:{next(_SECOND) % 60:02d}:{next(_SECOND) % 60:02d}Z",
            "aws:EpochTime": str(next(_SECOND))}


def _reference_us() -> float:
    """How loaded this machine is right now: an idle ~3 GHz core runs this loop in ~0.4 us."""
    loop = "d = {'a': 1, 'b': 2}; x = [i for i in range(10)]"
    return min(timeit.repeat(loop, number=5000, repeat=3, timer=time.process_time)) / 5000 * 1e6


def best_seconds(run: Callable[[], object], repeat: int, number: int) -> tuple[float, float]:
    """Best of `repeat` CPU-time timings of `number` calls, and the reference loop measured alongside.

    CPU time, not wall time: on a shared machine the wall clock mostly measures waiting for a core.
    """
    best, reference = float("inf"), float("inf")
    for _ in range(repeat):
        reference = min(reference, _reference_us())
        start = time.process_time()
        for _ in range(number):
            run()
        best = min(best, (time.process_time() - start) / number)
    return best, reference


def main() -> None:
    heavy_docs = heavy_documents()
    heavy, plain = role(heavy_docs), role(PLAIN)
    assert role_check(plain) == len(DRS_ACTIONS)
    rows = [
        ("10x20+conditions: role check, new context",
         best_seconds(lambda: role_check(heavy, fresh_context()), 5, 20)),
        ("1 plain: role check, new context",
         best_seconds(lambda: role_check(plain, fresh_context()), 5, 200)),
        ("10x20+conditions: role check, same request", best_seconds(lambda: role_check(heavy), 5, 50)),
        ("1 plain: role check, same request", best_seconds(lambda: role_check(plain), 5, 200)),
        ("10x20+conditions: one request at a time", best_seconds(lambda: one_by_one(heavy), 5, 20)),
        ("1 plain: one request at a time", best_seconds(lambda: one_by_one(plain), 5, 200)),
        ("10x20+conditions: parse + role check",
         best_seconds(lambda: role_check(role(heavy_docs, True)), 5, 5)),
        ("1 plain: parse + role check", best_seconds(lambda: role_check(role(PLAIN, True)), 5, 100)),
    ]
    n = len(DRS_ACTIONS)
    print(f"DRS action set: {n} actions (all role kinds); round trip assumed {ROUND_TRIP_MS:.0f} ms; "
          f"heavy role allows {role_check(heavy)} of {n}")
    # CPU time per check; "ref us" is the reference loop's CPU time beside each row (an idle ~3 GHz
    # core: about 0.4 us) and the last column scales the row by it, for a slower or contended core
    print(f"{'role and way of asking':<46} {'decisions/s':>12} {'us/decision':>12} {'role check ms':>14} "
          f"{'% of RTT':>9} {'ref us':>7} {'idle est.':>10}")
    for name, (seconds, reference) in rows:
        share = seconds * 1e3 / ROUND_TRIP_MS * 100
        print(f"{name:<46} {n / seconds:>12,.0f} {seconds / n * 1e6:>12.2f} {seconds * 1e3:>14.3f} "
              f"{share:>8.2f}% {reference:>7.2f} {share * IDLE_REFERENCE_US / reference:>9.2f}%")
    ratios = ", ".join(f"{rows[i][0].split(': ')[1]} {rows[i][1][0] / rows[i + 1][1][0]:.1f}x"
                       for i in range(0, len(rows), 2))
    print(f"heavy/plain ratio: {ratios}")
    hostile_wildcards()


# patterns that made a regex per `*` backtrack for seconds; each must decide in well under 10 ms
HOSTILE = [
    ("drs:*a*a*a*a*a*a*a*a*b vs 100-char action", "drs:*a*a*a*a*a*a*a*a*b", "drs:" + "a" * 96, "action"),
    ("20 stars vs 100-char action", "drs:" + "*a" * 20 + "*b", "drs:" + "a" * 96, "action"),
    ("20 stars vs 100-char ARN", "arn:aws:states:*:*:execution:" + "*x" * 20 + "*y",
     "arn:aws:states:us-east-1:111122223333:execution:" + "x" * 52, "arn"),
]


def hostile_wildcards() -> None:
    """CPU time of one uncached decision per hostile pattern (of 20, the first compiling every part afresh):
    the matcher never backtracks. CPU time, as above: on a shared machine wall time measures waiting."""
    from drsdoctor.iam.matching import action_match, arn_match, compile_glob

    for name, pattern, value, kind in HOSTILE:
        times = []
        for _ in range(20):
            compile_glob.cache_clear()
            arn_match.cache_clear()
            start = time.process_time()
            matched = action_match(pattern, value) if kind == "action" else arn_match(pattern, value)
            times.append(time.process_time() - start)
        assert not matched
        times.sort()
        # the worst is the first, cold decision (its parts compiled); the median a decision's own cost
        print(f"hostile wildcard: {name}: median {times[10] * 1e3:.3f} ms, worst {times[-1] * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
