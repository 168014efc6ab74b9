"""End to end: stages (issue 17) on the real HTTP path, against moto.

A push deploys to api-staging only; that deployment creates a one-time EventBridge Scheduler
schedule (the promotion check) whose Target.Input the test then fires, as the scheduler would at
the schedule's time (see rollouts.py: moto keeps schedules but never fires them). Nobody waits out a
bake in a test: the check measures the bake from the time the deployer recorded in the staging
alias's description (`moved=`), so the test moves that record back by the bake, which to the
deployer is the same check arriving after the bake.

Other accounts: moto's STS AssumeRole answers with credentials that moto then attributes to the
role's account (moto's multi-account support). api-prod lives in account 210987654321 only; the
deployer reaches it only by assuming the target's role, so a deployed api-prod there proves its
calls went out with that role's credentials. The same holds for CloudWatch: an alarm of the same
name in both accounts, in ALARM only in prod's, rolls prod's canary back only if the gate read it
there (through the CBOR proxy, which forwards the SDK's own signature).
"""

import datetime as dt
import json
import re

import boto3

from harness import ACCOUNT, CREDS, REGION, World, ecr_event, why
from rollouts import DEPLOYER_ARN, GROUP, SCHEDULER_ROLE_ARN, Rollouts, at_expression, parse_time, rfc3339

OK = {"statusCode": 200, "body": "ok"}
BAKE = 60
PROD_ACCOUNT = "210987654321"
PROD_ROLE = f"arn:aws:iam::{PROD_ACCOUNT}:role/self-deployer-prod"


def targets(prod_role: bool = False, manual: bool = False) -> list:
    prod = {"repository": "api", "functions": ["api-prod"],
            "after": {"function": "api-staging", "bake_secs": BAKE, "manual": manual}}
    if prod_role:
        prod["assume_role_arn"] = PROD_ROLE
    return [{"repository": "api", "functions": ["api-staging"]}, prod]


def bake_elapsed(world: World, function: str = "api-staging") -> None:
    """Moves the deployer's record of the staging alias's last move back by the bake (+ 5 s)."""
    lam = world.moto.client("lambda")
    desc = lam.get_alias(FunctionName=function, Name="live")["Description"]
    m = re.search(r"moved=(\S+)", desc)
    assert m, desc
    earlier = rfc3339(parse_time(m.group(1)) - dt.timedelta(seconds=BAKE + 5))
    lam.update_alias(FunctionName=function, Name="live", Description=desc.replace(m.group(1), earlier))


def fire(r: Rollouts, schedule: dict, tg: list, replay: bool = False) -> object:
    """The scheduler at the schedule's time: delete it, invoke the deployer with its input.
    `replay`: the same input delivered again (the schedule is gone already)."""
    assert schedule["ActionAfterCompletion"] == "DELETE"
    payload = json.loads(schedule["Target"]["Input"])
    if not replay:
        r.scheduler.delete_schedule(GroupName=schedule["GroupName"], Name=schedule["Name"])
    return r.handle(payload, tg)


def staged(world: World, r: Rollouts, tg: list, prod_lambda=None):
    """api-staging and api-prod on release 1; release 2 pushed and deployed to staging. Returns
    (digest 1, digest 2, the push's run)."""
    world.repository("api")
    d1 = world.push_image("api", "v1", "release 1")
    world.function("api-staging", "api", d1)
    if prod_lambda is None:
        world.function("api-prod", "api", d1)
    d2 = world.push_image("api", "v2", "release 2")
    world.moto.queue_invoke_results(OK, OK)
    run = r.handle(ecr_event("api", d2, "v2"), tg)
    assert (run.code, run.report["outcome"]) == (0, "deployed"), why(run)
    return d1, d2, run


def test_a_staged_promotion_is_driven_by_firing_the_schedules_input(world, rollouts):
    r = rollouts
    tg = targets()
    d1, d2, run = staged(world, r, tg)
    assert [d["function"] for d in run.report["deployments"]] == ["api-staging"]
    assert world.alias_version("api-prod") == "1", "a push never reaches a later stage"
    [check] = run.report["promotion_checks"]
    assert (check["from"], check["to"], check["digest"], check["manual"]) == ("api-staging", ["api-prod"], d2, False)

    s = r.only_schedule()
    assert s["Name"] == check["schedule"] and s["GroupName"] == GROUP
    due = parse_time(check["due"])
    assert s["ScheduleExpression"] == at_expression(due)
    assert 0 < (due - dt.datetime.now(dt.timezone.utc)).total_seconds() <= BAKE + 1
    assert (s["FlexibleTimeWindow"], s["ActionAfterCompletion"]) == ({"Mode": "OFF"}, "DELETE")
    assert (s["Target"]["Arn"], s["Target"]["RoleArn"]) == (DEPLOYER_ARN, SCHEDULER_ROLE_ARN)
    assert json.loads(s["Target"]["Input"]) == {
        "action": "promote_stage", "from": "api-staging", "to": "api-prod", "digest": d2,
        "due": check["due"]}
    world.messages()

    # Fired before the bake is over (the scheduler never does; a replay might): nothing moves.
    early = fire(r, s, tg)
    assert (early.code, early.report["outcome"]) == (0, "skipped"), why(early)
    assert early.report["reason"].startswith("not baked yet: api-staging has served"), early.report
    assert world.alias_version("api-prod") == "1"

    bake_elapsed(world)
    world.moto.queue_invoke_results(OK)
    promoted = fire(r, s, tg, replay=True)
    assert (promoted.code, promoted.report["outcome"]) == (0, "deployed"), why(promoted)
    rep = promoted.report
    assert rep["action"] == "promote_stage"
    assert (rep["stage"]["from"], rep["stage"]["to"], rep["stage"]["from_version"]) == ("api-staging", ["api-prod"], "2")
    assert rep["image_uri"] == World.image_uri("api", d2)
    [d] = rep["deployments"]
    assert (d["function"], d["outcome"], d["previous_version"], d["version"]) == ("api-prod", "deployed", "1", "2")
    assert d["smoke_test"]["passed"]
    assert world.alias_version("api-prod") == "2"
    assert world.latest_image("api-prod") == World.image_uri("api", d2)
    assert [e["Subject"] for e in world.envelopes()] == ["DEPLOYED api-prod v2 (v2)"]
    assert r.schedules() == [], "nothing follows api-prod"


def test_a_manual_stage_notifies_ready_then_the_cli_promotes(world, rollouts):
    r = rollouts
    tg = targets(manual=True)
    _, d2, _ = staged(world, r, tg)
    world.messages()
    bake_elapsed(world)
    ready = fire(r, r.only_schedule(), tg)
    assert (ready.code, ready.report["outcome"]) == (0, "ready_to_promote"), why(ready)
    assert "self-deployer promote-stage --from api-staging --to api-prod --now" in ready.report["reason"]
    assert world.alias_version("api-prod") == "1"
    [env] = world.envelopes()
    assert env["Subject"].startswith("READY TO PROMOTE api"), env
    # A person approves: the CLI, as the message says.
    world.moto.queue_invoke_results(OK)
    run = r.cli(["promote-stage", "--from", "api-staging", "--to", "api-prod", "--now"], tg)
    assert (run.code, run.report["outcome"]) == (0, "deployed"), why(run)
    assert world.latest_image("api-prod") == World.image_uri("api", d2)


def sts_client_for(role_arn: str, endpoint: str):
    """Clients in the role's account, as moto attributes AssumeRole credentials."""
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"])
    c = sts.assume_role(RoleArn=role_arn, RoleSessionName="e2e-setup")["Credentials"]
    session = boto3.session.Session(aws_access_key_id=c["AccessKeyId"],
                                    aws_secret_access_key=c["SecretAccessKey"],
                                    aws_session_token=c["SessionToken"], region_name=REGION)
    return lambda service: session.client(service, endpoint_url=endpoint)


def prod_in_its_account(world: World):
    """api-prod created only in PROD_ACCOUNT, on release 1 behind `live`; the staging registry's
    images mirrored there. Returns (clients in that account, a mirror function, digest 1)."""
    client = sts_client_for(PROD_ROLE, world.moto.endpoint)
    assert client("sts").get_caller_identity()["Account"] == PROD_ACCOUNT
    # api-prod exists only in the prod account, running release 1 from the staging registry.
    world.repository("api")
    d1 = world.push_image("api", "v1", "release 1")
    # moto looks an image URI up in the function's own account's registry, whatever account the
    # URI names (AWS pulls from the named registry, if its policy allows): the same images go
    # there too, as ECR replication would put them.
    prod_ecr = client("ecr")
    prod_ecr.create_repository(repositoryName="api")

    def mirror(digest: str) -> None:
        manifest = world.moto.client("ecr").batch_get_image(
            repositoryName="api", imageIds=[{"imageDigest": digest}])["images"][0]["imageManifest"]
        assert prod_ecr.put_image(repositoryName="api", imageManifest=manifest)["image"]["imageId"]["imageDigest"] == digest

    mirror(d1)
    iam = client("iam")
    role = iam.create_role(RoleName="api-prod-fn", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    prod_lam = client("lambda")
    prod_lam.create_function(FunctionName="api-prod", Role=role, PackageType="Image",
                             Code={"ImageUri": World.image_uri("api", d1)}, Timeout=30)
    v = prod_lam.publish_version(FunctionName="api-prod", Description="initial")["Version"]
    prod_lam.create_alias(FunctionName="api-prod", Name="live", FunctionVersion=v)
    names = [f["FunctionName"] for f in world.moto.client("lambda").list_functions()["Functions"]]
    assert "api-prod" not in names, "not in the deployer's own account"
    return client, mirror, d1


def smoke_ok_in_prod(world: World) -> None:
    """The smoke test's Invoke answers in the prod account (moto keeps one queue per account)."""
    world.moto.post("/moto-api/static/lambda-simple/response",
                    {"results": [json.dumps(OK)], "region": REGION, "account_id": PROD_ACCOUNT})


def promote_release_2(world: World, r: Rollouts, tg: list, mirror, d1: str):
    """Release 2 pushed, deployed to api-staging, baked, and its promotion check fired (the smoke
    test answering in prod's account). Returns (digest 2, the promotion's run)."""
    world.function("api-staging", "api", d1)
    d2 = world.push_image("api", "v2", "release 2")
    mirror(d2)
    world.moto.queue_invoke_results(OK, OK)
    run = r.handle(ecr_event("api", d2, "v2"), tg)
    assert (run.code, run.report["outcome"]) == (0, "deployed"), why(run)
    bake_elapsed(world)
    smoke_ok_in_prod(world)
    return d2, fire(r, r.only_schedule(), tg)


def test_a_target_in_another_account_is_reached_through_its_role(world, rollouts):
    r = rollouts
    tg = targets(prod_role=True)
    client, mirror, d1 = prod_in_its_account(world)
    prod_lam = client("lambda")
    d2, promoted = promote_release_2(world, r, tg, mirror, d1)
    assert (promoted.code, promoted.report["outcome"]) == (0, "deployed"), why(promoted)
    assert prod_lam.get_alias(FunctionName="api-prod", Name="live")["FunctionVersion"] == "2"
    assert prod_lam.get_function(FunctionName="api-prod")["Code"]["ImageUri"] == World.image_uri("api", d2)
    assert "assumed the target's role" in promoted.stderr, promoted.stderr[-2000:]
    # Still nothing named api-prod in the deployer's own account.
    names = [f["FunctionName"] for f in world.moto.client("lambda").list_functions()["Functions"]]
    assert "api-prod" not in names
    assert ACCOUNT != PROD_ACCOUNT
    # status and history read api-prod in its account, with its role, like the deployment did.
    st = r.cli(["status", "--json"], tg)
    assert st.code == 0, why(st)
    [prod] = [f for f in st.report["functions"] if f["function"] == "api-prod"]
    assert "error" not in prod, prod
    assert (prod["version"], prod["image_digest"]) == ("2", d2), prod
    hist = r.cli(["history", "--function", "api-prod", "--json"], tg)
    assert hist.code == 0, why(hist)
    assert "error" not in hist.report and hist.report["total_versions"] == 2, hist.report


def test_a_rollout_in_another_account_reads_its_alarm_there(world, rollouts):
    """prod-5xx exists in both accounts: OK in the deployer's, ALARM in prod's. prod's rollout check
    reads prod's (the CloudWatch call signed with the role's credentials, through the CBOR proxy),
    so the canary is rolled back; read in the deployer's account it would have gone on."""
    r = rollouts
    tg = targets(prod_role=True)
    tg[1]["rollout"] = {"steps": [50], "interval_secs": 60, "check_secs": 60, "alarms": ["prod-5xx"]}
    client, mirror, d1 = prod_in_its_account(world)
    prod_lam, prod_cw = client("lambda"), client("cloudwatch")
    r.alarm("prod-5xx", "OK")
    prod_cw.put_metric_alarm(
        AlarmName="prod-5xx", Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    prod_cw.set_alarm_state(AlarmName="prod-5xx", StateValue="ALARM", StateReason="e2e: prod errors")
    _, promoted = promote_release_2(world, r, tg, mirror, d1)
    assert (promoted.code, promoted.report["outcome"]) == (0, "rolling_out"), why(promoted)
    weights = prod_lam.get_alias(FunctionName="api-prod", Name="live")["RoutingConfig"]["AdditionalVersionWeights"]
    assert weights == {"2": 0.5}, weights
    check = r.fire(r.only_schedule(), tg, later_by=120)
    assert check.code == 1, why(check)
    d = check.report["deployments"][0]
    assert (d["function"], d["outcome"], d["failed_step"]) == ("api-prod", "failed", "rollout"), d
    assert d["reason"] == "alarm prod-5xx is in ALARM: rolled back to version 1", d
    a = prod_lam.get_alias(FunctionName="api-prod", Name="live")
    assert a["FunctionVersion"] == "1" and not (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights"), a
    assert "DescribeAlarms" in r.proxy.seen, r.proxy.seen
