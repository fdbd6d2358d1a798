"""What Lambda does with a failed asynchronous invocation: retries (twice by default, or the function's
MaximumRetryAttempts), then the on-failure destination of its event invoke configuration, if any.
"""

from __future__ import annotations

from typing import Any

ASYNC_RETRIES = 2  # Lambda retries a failed asynchronous invocation twice by default


def event_config(function: Any) -> dict[str, Any]:
    """The function's asynchronous invocation configuration (PutFunctionEventInvokeConfig), if any."""
    configs = getattr(function, "event_invoke_config", None) or []
    return dict(configs[0].config) if configs else {}


def send_to_destination(session: Any, endpoint_url: str, arn: str, message: str) -> None:
    """Deliver a record to a destination ARN: an SQS queue, an SNS topic, a function or an event bus."""
    service, region = arn.split(":")[2], arn.split(":")[3]
    client = session.client(service, endpoint_url=endpoint_url, region_name=region)
    if service == "sqs":
        queue = client.get_queue_url(QueueName=arn.rsplit(":", 1)[-1],
                                     QueueOwnerAWSAccountId=arn.split(":")[4])
        client.send_message(QueueUrl=queue["QueueUrl"], MessageBody=message)
    elif service == "sns":
        client.publish(TopicArn=arn, Message=message)
    elif service == "lambda":
        client.invoke(FunctionName=arn, InvocationType="Event", Payload=message.encode())
    elif service == "events":
        client.put_events(Entries=[{"Source": "lambda", "DetailType": "Lambda Function Invocation Result - "
                                    "Failure", "Detail": message, "EventBusName": arn}])
