"""The harness's CBOR proxy, checked with a second, independent Smithy RPC v2 CBOR client: botocore's
(boto3 prefers CloudWatch's JSON protocol; here its model is told CBOR is all CloudWatch speaks).
The Rust SDK's side is what test_rollout_e2e.py exercises."""

import copy
import datetime as dt
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
import botocore.session
import cbor2
import pytest
from botocore.config import Config

from cbor_proxy import CborProxy
from harness import REGION


def cbor_client(endpoint: str):
    """A botocore CloudWatch client that speaks only Smithy RPC v2 CBOR, one attempt per call."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    load = loader.load_service_model

    def cbor_only(service_name, type_name, api_version=None):
        model = load(service_name, type_name, api_version)
        if service_name == "cloudwatch" and type_name == "service-2":
            model = copy.deepcopy(model)
            model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
        return model

    loader.load_service_model = cbor_only
    client = boto3.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    assert client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
    return client


@pytest.fixture
def cbor_cloudwatch(moto):
    moto.reset()
    proxy = CborProxy(moto.endpoint)
    yield cbor_client(proxy.endpoint), proxy
    proxy.stop()


def test_metrics_and_alarms_round_trip_as_cbor(cbor_cloudwatch, moto):
    cw, proxy = cbor_cloudwatch
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    dims = [{"Name": "FunctionName", "Value": "api"}, {"Name": "ExecutedVersion", "Value": "2"}]
    cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Errors", "Dimensions": dims, "Timestamp": now - dt.timedelta(seconds=90), "Value": 2},
        {"MetricName": "Errors", "Dimensions": dims, "Timestamp": now - dt.timedelta(seconds=30), "Value": 1.5},
    ])
    got = cw.get_metric_data(
        MetricDataQueries=[{"Id": "e", "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": dims},
            "Period": 60, "Stat": "Sum"}}],
        StartTime=now - dt.timedelta(minutes=5), EndTime=now)
    (result,) = got["MetricDataResults"]
    assert sum(result["Values"]) == 3.5
    assert all(isinstance(t, dt.datetime) for t in result["Timestamps"])
    # What moto stored is what a JSON client reads straight from moto.
    direct = moto.client("cloudwatch").get_metric_data(
        MetricDataQueries=[{"Id": "e", "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": dims},
            "Period": 60, "Stat": "Sum"}}],
        StartTime=now - dt.timedelta(minutes=5), EndTime=now)
    assert direct["MetricDataResults"][0]["Values"] == result["Values"]

    cw.put_metric_alarm(AlarmName="api-5xx", Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="api-5xx", StateValue="ALARM", StateReason="e2e")
    (alarm,) = cw.describe_alarms(AlarmNames=["api-5xx"], AlarmTypes=["MetricAlarm", "CompositeAlarm"])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["Threshold"]) == ("ALARM", 5.0)
    assert isinstance(alarm["StateUpdatedTimestamp"], dt.datetime)
    assert proxy.seen == ["PutMetricData", "GetMetricData", "PutMetricAlarm", "SetAlarmState", "DescribeAlarms"]


def test_errors_from_moto_and_injected_ones_arrive_as_cbor_errors(cbor_cloudwatch, moto):
    cw, proxy = cbor_cloudwatch
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.set_alarm_state(AlarmName="no-such-alarm", StateValue="ALARM", StateReason="e2e")
    assert e.value.response["Error"]["Code"] == "ResourceNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    failing = CborProxy(moto.endpoint, fail={"DescribeAlarms": 500})
    try:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cbor_client(failing.endpoint).describe_alarms(AlarmNames=["api-5xx"])
        assert e.value.response["Error"]["Code"] == "InternalServiceError"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert failing.seen == ["DescribeAlarms"]
    finally:
        failing.stop()
    # Anything but a CloudWatch CBOR request (here awsJson1_0) is refused, not forwarded.
    req = urllib.request.Request(proxy.endpoint + "/", data=b"{}", method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "GraniteServiceVersion20100801.DescribeAlarms"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=10)
    assert refused.value.code == 400
    assert cbor2.loads(refused.value.read())["__type"].endswith("#UnknownOperationException")
    assert proxy.seen == ["SetAlarmState"]
