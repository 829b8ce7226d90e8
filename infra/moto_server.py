"""moto_server, with two of its costs proportional to data size removed.

1. moto backs up every table a transaction names with copy.deepcopy before
applying it, so each transaction costs time proportional to the size of the
tables: a campaign of 500 leads spends most of an hour copying. This launcher
replaces that method with one of the same semantics (every condition is
checked against the state before the transaction; any failure cancels the
whole transaction with one reason per item; nothing is applied then) that
backs up only the items it writes.
2. Receiving an SQS message computes every queue attribute (four scans of all
messages in the queue) to read the retention period, once per message.
3. Whether an SQS message is visible is asked of every message in the queue
on every receive, each time building datetimes to read the clock.
4. DynamoDB answers, already in the wire format, go through a model-driven
serializer that visits every attribute; plain JSON is written instead when
the answer is plain data (otherwise the serializer still runs).

One addition for the tests: `GET /moto-api/ses/sent-messages` lists the
messages SES was asked to send (source, destinations, subject, body), as the
outbox of the AWS run; SES itself has no API that lists sent mail.

And one correctness fix: moto serves requests on threads without a lock, so
two concurrent transactions could both pass their conditions and both apply;
writes here take one lock, so transactions are serializable as in DynamoDB.

Usage: python moto_server.py -H HOST -p PORT
"""

import copy
import functools
import json
import sys
import threading
import time

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.core.utils import unix_time
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.moto_api._internal import urls as moto_api_urls
from moto.server import main
from moto.ses.models import ses_backends
from moto.sqs.models import Message, SQSBackend


def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen = set()
    checked = []
    errors = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        original_item = None
        try:
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)
            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                holds = get_filter_expression(
                    condition,
                    op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues"),
                ).expr(current)
                if not holds:
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            checked.append((op_type, op, table_name, key))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # noqa: BLE001 - reported per item, as moto does
            errors.append((type(e).__name__, str(e), original_item))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    backups = []
    try:
        for op_type, op, table_name, key in checked:
            if op_type == "ConditionCheck":
                continue
            current = self.get_item(table_name, key)
            backups.append(
                (table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None)
            )
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(table_name, op["Item"], expression_attribute_names=names,
                              expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, expression_attribute_names=names,
                                 expression_attribute_values=values)
            else:
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 expression_attribute_names=names,
                                 expression_attribute_values=values)
    except Exception:
        for table_name, key, attrs in reversed(backups):
            if attrs is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, attrs)
        raise


def is_message_valid_based_on_retention_period(self, queue_name, message):
    queue = self.get_queue(queue_name)
    retention = int(getattr(queue, "message_retention_period", 86400 * 4))
    return retention + message.sent_timestamp / 1000 > unix_time()


def visible(self):
    return time.time() * 1000 > self.visible_at


def delayed(self):
    return time.time() * 1000 < self.delayed_until


model_serialized = DynamoHandler.serialized


def serialized(self, action_result):
    if isinstance(action_result, DynamoResult) and isinstance(action_result.result, dict):
        try:
            body = json.dumps(action_result.result)
        except (TypeError, ValueError):
            return model_serialized(self, action_result)
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        headers.update(self.response_headers)
        return 200, headers, body
    return model_serialized(self, action_result)


WRITE_LOCK = threading.RLock()


def locked(method):
    @functools.wraps(method)
    def with_lock(*args, **kwargs):
        with WRITE_LOCK:
            return method(*args, **kwargs)

    return with_lock


DynamoDBBackend.transact_write_items = locked(transact_write_items)
for name in ("put_item", "update_item", "delete_item", "batch_write_item"):
    if hasattr(DynamoDBBackend, name):
        setattr(DynamoDBBackend, name, locked(getattr(DynamoDBBackend, name)))
DynamoHandler.serialized = serialized
Message.visible = property(visible)
Message.delayed = property(delayed)
SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period

def ses_sent_messages(request, full_url, headers):
    messages = []
    for account_id in list(ses_backends.keys()):
        for region, backend in list(ses_backends[account_id].items()):
            for message in list(backend.sent_messages):
                messages.append(
                    {
                        "id": message.id,
                        "region": region,
                        "source": getattr(message, "source", None),
                        "destinations": getattr(message, "destinations", None),
                        "subject": getattr(message, "subject", None),
                        "body": getattr(message, "body", None),
                    }
                )
    return 200, {"Content-Type": "application/json"}, json.dumps(messages)


moto_api_urls.url_paths["{0}/moto-api/ses/sent-messages"] = ses_sent_messages

if __name__ == "__main__":
    main(sys.argv[1:])
