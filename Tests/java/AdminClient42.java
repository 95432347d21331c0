import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka's Java Admin client against portaskd's 4.2 protocol: describeTopics (DescribeTopicPartitions),
 * listOffsets with OffsetSpec.maxTimestamp(), earliest() and latest(), alterClientQuotas and
 * describeClientQuotas, and electLeaders on a single broker. Prints one `name=value` line per observation for the
 * test to check. Argument: bootstrap servers.
 */
public class AdminClient42 {
    public static void main(String[] args) throws Exception {
        Properties common = new Properties();
        common.put("bootstrap.servers", args[0]);
        common.put("request.timeout.ms", "15000");
        common.put("default.api.timeout.ms", "30000");
        String topic = "java-admin";
        TopicPartition partition = new TopicPartition(topic, 0);
        try (Admin admin = Admin.create(common)) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();

            Properties producerConfig = new Properties();
            producerConfig.putAll(common);
            producerConfig.put("key.serializer", StringSerializer.class.getName());
            producerConfig.put("value.serializer", StringSerializer.class.getName());
            producerConfig.put("linger.ms", "50");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig)) {
                long[] timestamps = {1_000L, 5_000L, 3_000L, 2_000L};
                for (int index = 0; index < timestamps.length; index++) {
                    producer.send(new ProducerRecord<>(topic, 0, timestamps[index], "k" + index, "v" + index));
                }
                producer.flush();
            }

            TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            System.out.println("describedPartitions=" + description.partitions().size());
            System.out.println("describedLeader=" + description.partitions().get(0).leader().id());
            System.out.println("describedTopicId=" + !description.topicId().toString().isEmpty());

            var maxTimestamp = admin.listOffsets(Map.of(partition, OffsetSpec.maxTimestamp()))
                .partitionResult(partition).get();
            System.out.println("maxTimestampOffset=" + maxTimestamp.offset());
            System.out.println("maxTimestamp=" + maxTimestamp.timestamp());
            System.out.println("earliest=" + admin.listOffsets(Map.of(partition, OffsetSpec.earliest()))
                .partitionResult(partition).get().offset());
            System.out.println("latest=" + admin.listOffsets(Map.of(partition, OffsetSpec.latest()))
                .partitionResult(partition).get().offset());

            ClientQuotaEntity entity = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "java-app"));
            admin.alterClientQuotas(List.of(new ClientQuotaAlteration(entity,
                List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1048576.0))))).all().get();
            Map<ClientQuotaEntity, Map<String, Double>> quotas =
                admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get();
            System.out.println("quotas=" + new TreeMap<>(quotas.getOrDefault(entity, Map.of())));

            var elections = admin.electLeaders(ElectionType.PREFERRED, Set.of(partition)).partitions().get();
            Optional<Throwable> outcome = elections.get(partition);
            System.out.println("election=" + outcome.map(error -> error.getClass().getSimpleName()).orElse("elected"));
            var missing = new TopicPartition("java-admin-missing", 0);
            var missingElection = admin.electLeaders(ElectionType.PREFERRED, Set.of(missing)).partitions().get();
            System.out.println("missingElection=" + missingElection.get(missing)
                .map(error -> error.getClass().getSimpleName()).orElse("elected"));
        }
    }
}
