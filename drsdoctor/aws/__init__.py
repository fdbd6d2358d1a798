"""The AWS layer: clients that only read, retry patiently, time out, and log every call."""

from drsdoctor.aws.calllog import CallLog, CallRecord
from drsdoctor.aws.failures import AwsFailure, AwsUnavailable, failure_from, iam_action
from drsdoctor.aws.readonly import MutatingCallRefused, is_read_operation
from drsdoctor.aws.session import AwsSession, AwsSettings

__all__ = ["AwsFailure", "AwsSession", "AwsSettings", "AwsUnavailable", "CallLog", "CallRecord",
           "MutatingCallRefused", "failure_from", "iam_action", "is_read_operation"]
