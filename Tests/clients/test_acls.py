"""ACLs with real clients: confluent-kafka's AdminClient creates, describes and deletes ACL bindings on a broker
with the StandardAuthorizer; users without ACLs are refused produce, fetch, group membership and topic creation
with Kafka's error codes while an authorized user on the same broker works; DENY wins over ALLOW; a client
certificate's mapped subject is a principal; ACLs survive a restart; without an authorizer DescribeAcls answers
SECURITY_DISABLED."""
import pathlib
import shutil
import tempfile
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient,
                                   NewTopic, ResourcePatternType, ResourceType)

from security_support import SecuredBroker, make_certificates

JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        'user_admin="admin-pw" user_alice="alice-pw" user_bob="bob-pw" user_carol="carol-pw" user_dave="dave-pw" '
        'user_erin="erin-pw" user_frank="frank-pw";')


@pytest.fixture(scope="module")
def acl_broker():
    directory = pathlib.Path(tempfile.mkdtemp(prefix="portask-acls-"))
    certificates = make_certificates(directory)
    data_dir = directory / "data"
    data_dir.mkdir()
    broker = SecuredBroker(data_dir, {"SASL_PLAINTEXT": "SASL_PLAINTEXT", "MTLS": "SSL"}, {
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:admin",
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
        "ssl.keystore.location": str(certificates["broker"]),
        "ssl.client.auth": "required",
        "ssl.truststore.location": str(certificates["ca"]),
        "ssl.principal.mapping.rules": "RULE:^CN=([^,]+),.*$/$1/",
        "group.initial.rebalance.delay.ms": "0",
    })
    broker.certificates = certificates
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(directory, ignore_errors=True)


def as_user(broker, user):
    return {"bootstrap.servers": broker.address("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN", "sasl.username": user, "sasl.password": f"{user}-pw"}


def wait_all(futures):
    return {key: future.result(timeout=10) for key, future in futures.items()}


def produce_error(config, topic):
    """Produces one record; returns the delivery error code (None on success)."""
    outcome = []
    producer = Producer({**config, "message.timeout.ms": 5000,
                         "delivery.report.only.error": False})
    producer.produce(topic, b"value", partition=0, on_delivery=lambda err, msg: outcome.append(err))
    producer.flush(10)
    assert outcome, "no delivery report"
    return outcome[0].code() if outcome[0] else None


def first_consumer_error(config, topic, group, subscribe=False):
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    if subscribe:
        consumer.subscribe([topic])
    else:
        consumer.assign([TopicPartition(topic, 0, 0)])
    deadline = time.time() + 10
    try:
        while time.time() < deadline:
            message = consumer.poll(0.3)
            if message is None:
                continue
            if message.error():
                return message.error().code()
            return None
        return "timeout"
    finally:
        consumer.close()


def test_describe_acls_without_an_authorizer_is_security_disabled(broker):
    # librdkafka drops DescribeAcls' top-level error; kafka-python reports it.
    from kafka.admin import (ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                             KafkaAdminClient, ResourcePatternFilter)
    from kafka.admin import ResourceType as PyResourceType
    from kafka.errors import SecurityDisabledError
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        with pytest.raises(SecurityDisabledError):
            admin.describe_acls(ACLFilter(
                principal=None, host="*", operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                resource_pattern=ResourcePatternFilter(PyResourceType.ANY, None, ACLResourcePatternType.ANY)))
    finally:
        admin.close()


def test_acls_allow_one_user_and_refuse_another(acl_broker):
    admin = AdminClient(as_user(acl_broker, "admin"))
    wait_all(admin.create_topics([NewTopic("alice-orders", 1, 1), NewTopic("shared", 1, 1)]))
    bindings = [
        AclBinding(ResourceType.TOPIC, "alice-", ResourcePatternType.PREFIXED, "User:alice", "*",
                   AclOperation.WRITE, AclPermissionType.ALLOW),
        AclBinding(ResourceType.TOPIC, "alice-", ResourcePatternType.PREFIXED, "User:alice", "*",
                   AclOperation.READ, AclPermissionType.ALLOW),
        AclBinding(ResourceType.GROUP, "alice-group", ResourcePatternType.LITERAL, "User:alice", "*",
                   AclOperation.READ, AclPermissionType.ALLOW),
    ]
    wait_all(admin.create_acls(bindings))
    described = admin.describe_acls(AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, "User:alice",
                                                     None, AclOperation.ANY, AclPermissionType.ANY)).result(timeout=10)
    assert sorted(map(str, described)) == sorted(map(str, bindings))

    alice, bob = as_user(acl_broker, "alice"), as_user(acl_broker, "bob")
    assert produce_error(alice, "alice-orders") is None
    assert first_consumer_error(alice, "alice-orders", "alice-group", subscribe=True) is None
    assert produce_error(bob, "alice-orders") == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert first_consumer_error(bob, "alice-orders", "bob-group") == KafkaError.GROUP_AUTHORIZATION_FAILED
    # With the group and DESCRIBE (but not READ) on the topic, the fetch itself is refused.
    wait_all(admin.create_acls([
        AclBinding(ResourceType.GROUP, "bob-", ResourcePatternType.PREFIXED, "User:bob", "*", AclOperation.READ,
                   AclPermissionType.ALLOW),
        AclBinding(ResourceType.TOPIC, "alice-orders", ResourcePatternType.LITERAL, "User:bob", "*",
                   AclOperation.DESCRIBE, AclPermissionType.ALLOW)]))
    assert first_consumer_error(bob, "alice-orders", "bob-group") == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert first_consumer_error(alice, "alice-orders", "bob-group", subscribe=True) == \
        KafkaError.GROUP_AUTHORIZATION_FAILED
    # Metadata hides what a user may not describe.
    assert "alice-orders" in AdminClient(alice).list_topics(timeout=10).topics
    assert "shared" not in AdminClient(bob).list_topics(timeout=10).topics
    assert "shared" in AdminClient(as_user(acl_broker, "admin")).list_topics(timeout=10).topics
    # Creating topics needs CREATE.
    bob_admin = AdminClient(bob)
    futures = bob_admin.create_topics([NewTopic("bobs-topic", 1, 1)])
    with pytest.raises(KafkaException) as caught:
        futures["bobs-topic"].result(timeout=10)
    assert caught.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    # Only super users (or ALTER on the cluster) change ACLs.
    futures = bob_admin.create_acls([bindings[0]])
    with pytest.raises(KafkaException) as caught:
        list(futures.values())[0].result(timeout=10)
    assert caught.value.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED

    # DENY wins over ALLOW.
    deny = AclBinding(ResourceType.TOPIC, "alice-orders", ResourcePatternType.LITERAL, "User:alice", "*",
                      AclOperation.WRITE, AclPermissionType.DENY)
    wait_all(admin.create_acls([deny]))
    assert produce_error(alice, "alice-orders") == KafkaError.TOPIC_AUTHORIZATION_FAILED
    deleted = wait_all(admin.delete_acls([AclBindingFilter(
        ResourceType.TOPIC, "alice-orders", ResourcePatternType.MATCH, "User:alice", None, AclOperation.WRITE,
        AclPermissionType.ANY)]))
    assert sorted(map(str, list(deleted.values())[0])) == sorted(map(str, [deny, bindings[0]]))
    assert produce_error(alice, "alice-orders") == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_client_certificate_subject_is_the_principal_and_acls_survive_restart(acl_broker):
    admin = AdminClient(as_user(acl_broker, "admin"))
    wait_all(admin.create_topics([NewTopic("bob-only", 1, 1)]))
    wait_all(admin.create_acls([AclBinding(ResourceType.TOPIC, "bob-only", ResourcePatternType.LITERAL, "User:bob",
                                           "*", AclOperation.WRITE, AclPermissionType.ALLOW)]))
    c = acl_broker.certificates

    def over_tls(user):
        return {"bootstrap.servers": acl_broker.address("MTLS"), "security.protocol": "SSL",
                "ssl.ca.location": str(c["ca"]), "ssl.certificate.location": str(c[f"{user}_crt"]),
                "ssl.key.location": str(c[f"{user}_key"])}

    assert produce_error(over_tls("bob"), "bob-only") is None
    assert produce_error(over_tls("alice"), "bob-only") == KafkaError.TOPIC_AUTHORIZATION_FAILED
    acl_broker.restart()
    admin = AdminClient(as_user(acl_broker, "admin"))
    found = admin.describe_acls(AclBindingFilter(
        ResourceType.TOPIC, "bob-only", ResourcePatternType.LITERAL, None, None, AclOperation.ANY,
        AclPermissionType.ANY)).result(timeout=10)
    assert [(b.principal, b.operation) for b in found] == [("User:bob", AclOperation.WRITE)]
    assert produce_error(over_tls("bob"), "bob-only") is None


def test_transactions_need_write_on_their_transactional_id_and_topics(acl_broker):
    admin = AdminClient(as_user(acl_broker, "admin"))
    wait_all(admin.create_topics([NewTopic("alice-txn", 1, 1), NewTopic("txn-acl", 1, 1)]))
    wait_all(admin.create_acls([
        AclBinding(ResourceType.TRANSACTIONAL_ID, tid, ResourcePatternType.LITERAL, f"User:{user}", "*", operation,
                   AclPermissionType.ALLOW)
        for user, tid in (("alice", "alice-tx"), ("bob", "bob-tx"))
        for operation in (AclOperation.WRITE, AclOperation.DESCRIBE)
    ] + [AclBinding(ResourceType.TOPIC, "alice-txn", ResourcePatternType.LITERAL, "User:alice", "*",
                    AclOperation.WRITE, AclPermissionType.ALLOW)]))
    # WRITE on the transactional id and on the topic: a transaction commits.
    alice = Producer({**as_user(acl_broker, "alice"), "transactional.id": "alice-tx"})
    alice.init_transactions(10)
    alice.begin_transaction()
    alice.produce("alice-txn", b"committed", partition=0)
    alice.commit_transaction(10)
    # WRITE on the transactional id but not on the topic: AddPartitionsToTxn is refused and the transaction must
    # abort.
    bob = Producer({**as_user(acl_broker, "bob"), "transactional.id": "bob-tx"})
    bob.init_transactions(10)
    bob.begin_transaction()
    delivery = []
    bob.produce("txn-acl", b"refused", partition=0, on_delivery=lambda err, msg: delivery.append(err))
    with pytest.raises(KafkaException) as refused:
        bob.commit_transaction(10)
    assert refused.value.args[0].txn_requires_abort()
    bob.poll(1)
    assert [err.code() if err else None for err in delivery] == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
    bob.abort_transaction(10)
    # Someone else's transactional id is refused at InitProducerId.
    intruder = Producer({**as_user(acl_broker, "bob"), "transactional.id": "alice-tx"})
    with pytest.raises(KafkaException) as fenced:
        intruder.init_transactions(10)
    assert fenced.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED


def admin_error(future):
    """The Kafka error code a failed admin future carries (None when it succeeded)."""
    try:
        future.result(timeout=10)
        return None
    except KafkaException as caught:
        return caught.args[0].code()


def test_admin_apis_refuse_a_user_without_acls_and_serve_an_authorized_one(acl_broker):
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicCollection
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions
    admin = AdminClient(as_user(acl_broker, "admin"))
    wait_all(admin.create_topics([NewTopic("cfg-topic", 1, 1)]))
    wait_all(admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(
        "cfg-group", [TopicPartition("cfg-topic", 0, 0)])]))
    wait_all(admin.create_acls([
        AclBinding(ResourceType.TOPIC, "cfg-", ResourcePatternType.PREFIXED, "User:carol", "*", operation,
                   AclPermissionType.ALLOW)
        for operation in (AclOperation.ALTER_CONFIGS, AclOperation.ALTER, AclOperation.DELETE)
    ] + [AclBinding(ResourceType.GROUP, "cfg-group", ResourcePatternType.LITERAL, "User:carol", "*", operation,
                    AclPermissionType.ALLOW) for operation in (AclOperation.DESCRIBE, AclOperation.DELETE)]))
    carol, dave = AdminClient(as_user(acl_broker, "carol")), AdminClient(as_user(acl_broker, "dave"))
    node = admin.describe_cluster().result(timeout=10).nodes[0].id
    topic = ConfigResource(ConfigResource.Type.TOPIC, "cfg-topic")
    broker_resource = ConfigResource(ConfigResource.Type.BROKER, str(node))

    # Configs: DESCRIBE_CONFIGS (implied by ALTER_CONFIGS) and ALTER_CONFIGS on the topic, the cluster's for brokers.
    assert admin_error(dave.describe_configs([topic])[topic]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert admin_error(carol.describe_configs([broker_resource])[broker_resource]) == \
        KafkaError.CLUSTER_AUTHORIZATION_FAILED
    assert "retention.ms" in carol.describe_configs([topic])[topic].result(timeout=10)
    change = ConfigResource(ConfigResource.Type.TOPIC, "cfg-topic", incremental_configs=[
        ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET)])
    assert admin_error(dave.incremental_alter_configs([change])[change]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert admin_error(carol.incremental_alter_configs([change])[change]) is None
    assert admin.describe_configs([topic])[topic].result(timeout=10)["retention.ms"].value == "3600000"

    # Partitions and records: ALTER and DELETE on the topic.
    assert admin_error(dave.create_partitions([NewPartitions("cfg-topic", 2)])["cfg-topic"]) == \
        KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert admin_error(carol.create_partitions([NewPartitions("cfg-topic", 2)])["cfg-topic"]) is None

    # Authorized operations: the principal's own, in Metadata and DescribeCluster.
    described = carol.describe_topics(TopicCollection(["cfg-topic"]), include_authorized_operations=True)
    operations = set(described["cfg-topic"].result(timeout=10).authorized_operations)
    assert operations == {AclOperation.ALTER_CONFIGS, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER,
                          AclOperation.DELETE, AclOperation.DESCRIBE}
    assert admin_error(dave.describe_topics(TopicCollection(["cfg-topic"]))["cfg-topic"]) == \
        KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert not dave.describe_cluster(include_authorized_operations=True).result(timeout=10).authorized_operations
    assert AclOperation.CLUSTER_ACTION in \
        admin.describe_cluster(include_authorized_operations=True).result(timeout=10).authorized_operations

    # Deleting records needs DELETE (the client must see the topic to find its leader: DESCRIBE suffices).
    wait_all(admin.create_acls([AclBinding(ResourceType.TOPIC, "cfg-topic", ResourcePatternType.LITERAL, "User:dave",
                                           "*", AclOperation.DESCRIBE, AclPermissionType.ALLOW)]))
    earliest = TopicPartition("cfg-topic", 0, -1)
    # A new client: the earlier one remembers the topic as unauthorized in its metadata cache.
    dave_now = AdminClient(as_user(acl_broker, "dave"))
    assert admin_error(list(dave_now.delete_records([earliest]).values())[0]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert admin_error(list(carol.delete_records([earliest]).values())[0]) is None

    # Groups: DESCRIBE to see or describe one, DELETE to delete it.
    assert "cfg-group" not in [g.group_id for g in dave.list_consumer_groups().result(timeout=10).valid]
    assert "cfg-group" in [g.group_id for g in carol.list_consumer_groups().result(timeout=10).valid]
    assert admin_error(dave.describe_consumer_groups(["cfg-group"])["cfg-group"]) == \
        KafkaError.GROUP_AUTHORIZATION_FAILED
    group = carol.describe_consumer_groups(["cfg-group"], include_authorized_operations=True)["cfg-group"]
    assert set(group.result(timeout=10).authorized_operations) == {AclOperation.DESCRIBE, AclOperation.DELETE}
    assert admin_error(dave.delete_consumer_groups(["cfg-group"])["cfg-group"]) == \
        KafkaError.GROUP_AUTHORIZATION_FAILED
    assert admin_error(carol.delete_consumer_groups(["cfg-group"])["cfg-group"]) is None


def test_cluster_and_transaction_admin_apis_need_their_acls(acl_broker):
    from kafka import TopicPartition as PyTopicPartition
    from kafka.admin import KafkaAdminClient
    from kafka.errors import AuthorizationError, TopicAuthorizationFailedError

    def python_admin(user):
        return KafkaAdminClient(bootstrap_servers=acl_broker.address("SASL_PLAINTEXT"),
                                security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                                sasl_plain_username=user, sasl_plain_password=f"{user}-pw")
    admin = AdminClient(as_user(acl_broker, "admin"))
    wait_all(admin.create_topics([NewTopic("ops-topic", 1, 1)]))
    producer = Producer({**as_user(acl_broker, "admin"), "transactional.id": "ops-tx"})
    producer.init_transactions(10)
    producer.begin_transaction()
    producer.produce("ops-topic", b"open", partition=0)
    producer.flush(10)
    wait_all(admin.create_acls([AclBinding(ResourceType.TRANSACTIONAL_ID, "ops-tx", ResourcePatternType.LITERAL,
                                           "User:erin", "*", AclOperation.DESCRIBE, AclPermissionType.ALLOW)]))
    root, erin, frank = python_admin("admin"), python_admin("erin"), python_admin("frank")
    try:
        # DescribeLogDirs needs DESCRIBE on the cluster: refused, it lists no directory.
        assert [entry["log_dirs"] for entry in frank.describe_log_dirs()] == [[]]
        assert all(entry["log_dirs"] for entry in root.describe_log_dirs())
        # DescribeProducers needs READ on the topic.
        node = admin.describe_cluster().result(timeout=10).nodes[0].id
        with pytest.raises(TopicAuthorizationFailedError):
            frank.describe_producers([PyTopicPartition("ops-topic", 0)], broker_id=node)
        assert root.describe_producers([PyTopicPartition("ops-topic", 0)], broker_id=node)
        # Transactions are listed and described with DESCRIBE on their transactional id; a described transaction
        # shows only the topics the client may describe.
        listed = lambda client: [t.transactional_id for rows in client.list_transactions().values() for t in rows]
        assert "ops-tx" not in listed(frank)
        assert "ops-tx" in listed(erin) and "ops-tx" in listed(root)
        with pytest.raises(AuthorizationError):
            frank.describe_transactions(["ops-tx"])
        assert erin.describe_transactions(["ops-tx"])["ops-tx"].topic_partitions == set()
        assert root.describe_transactions(["ops-tx"])["ops-tx"].topic_partitions == {PyTopicPartition("ops-topic", 0)}
    finally:
        producer.abort_transaction(10)
        for client in (root, erin, frank):
            client.close()
