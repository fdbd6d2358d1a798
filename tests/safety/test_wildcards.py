"""Policy wildcards decide like a reference glob, for patterns with many stars (which once backtracked).

Speed is a benchmark row (benchmarks/bench_iam.py, "hostile wildcard"), not a timed test: these prove the
linear matcher gives the answers the backtracking regex gave.
"""

from __future__ import annotations

import fnmatch
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from drsdoctor.iam.evaluate import PolicySet, Request, evaluate
from drsdoctor.iam.matching import action_match, arn_match, glob_match, substitute
from drsdoctor.iam.policy import parse_policy

STARRY = st.text(st.sampled_from(list("ab:*?*")), max_size=24)  # stars twice as likely: long runs of them
VALUES = st.text(st.sampled_from(list("abAB:")), max_size=30)


def reference(pattern: str, value: str, ignore_case: bool = False) -> bool:
    flags = (re.IGNORECASE if ignore_case else 0) | re.DOTALL
    return re.match(fnmatch.translate(pattern), value, flags) is not None


@settings(max_examples=150, deadline=None)
@given(STARRY, VALUES)
def test_many_stars_agree_with_a_reference_glob(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) == reference(pattern, value)
    assert action_match(pattern, value) == reference(pattern, value, ignore_case=True)


def test_the_hostile_pattern_still_matches_what_it_names() -> None:
    hostile = "drs:*a*a*a*a*a*a*a*a*b"
    assert not action_match(hostile, "drs:" + "a" * 96)
    assert action_match(hostile, "DRS:" + "A" * 96 + "B")
    assert arn_match("arn:aws:states:*:*:execution:" + "*x" * 20 + "*y",
                     "arn:aws:states:us-east-1:111122223333:execution:" + "x" * 20 + "y")


def test_an_escaped_star_from_a_policy_variable_matches_only_a_star() -> None:
    pattern = substitute("arn:aws:s3:::bucket/${*}/${aws:username}", {"aws:username": ["a*b"]},
                         as_pattern=True)
    assert arn_match(pattern, "arn:aws:s3:::bucket/*/a*b")
    assert not arn_match(pattern, "arn:aws:s3:::bucket/x/a*b")
    assert not arn_match(pattern, "arn:aws:s3:::bucket/*/axb")


def test_a_statement_with_hostile_actions_decides_like_iam() -> None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["drs:*a*a*a*a*a*a*a*a*b", "drs:Describe?obs"], "Resource": "*"}]})
    decide = lambda action: evaluate(PolicySet(identity=[policy]), Request(action)).decision  # noqa: E731
    assert decide("drs:DescribeJobs") == "allowed"
    assert decide("drs:" + "a" * 60) != "allowed"
    assert decide("drs:" + "a" * 9 + "b") == "allowed"
