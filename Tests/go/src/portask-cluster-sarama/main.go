// Produces to every partition of a topic spread over several brokers with Sarama's SyncProducer (acks=all),
// optionally pausing between two halves until a line arrives on stdin (the caller restarts a broker then),
// and reads every partition back from its oldest offset. Prints {"event":"paused"} at the pause and each
// consumed message as a JSON line.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

type consumed struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Value     string `json:"value"`
}

func produce(producer sarama.SyncProducer, topic string, partitions, from, to int) {
	var messages []*sarama.ProducerMessage
	for i := from; i < to; i++ {
		messages = append(messages, &sarama.ProducerMessage{
			Topic:     topic,
			Partition: int32(i % partitions),
			Value:     sarama.StringEncoder(fmt.Sprintf("%s-%d", topic, i)),
		})
	}
	if err := producer.SendMessages(messages); err != nil {
		log.Fatalf("send %d..%d: %v", from, to, err)
	}
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	topic := flag.String("topic", "cluster-sarama", "topic (must exist)")
	partitions := flag.Int("partitions", 6, "partitions of the topic")
	count := flag.Int("count", 60, "messages to produce in each half")
	pause := flag.Bool("pause", false, "wait for a line on stdin between the two halves")
	flag.Parse()

	config := sarama.NewConfig()
	config.Version = sarama.V2_1_0_0
	config.ClientID = "portask-cluster-sarama"
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Producer.Retry.Max = 100
	config.Producer.Retry.Backoff = 200 * time.Millisecond
	config.Metadata.Retry.Max = 100
	config.Metadata.Retry.Backoff = 200 * time.Millisecond
	client, err := sarama.NewClient(strings.Split(*brokers, ","), config)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		log.Fatalf("producer: %v", err)
	}
	produce(producer, *topic, *partitions, 0, *count)
	if *pause {
		fmt.Println(`{"event":"paused"}`)
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			log.Fatalf("stdin: %v", err)
		}
	}
	produce(producer, *topic, *partitions, *count, 2**count)
	producer.Close()

	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		log.Fatalf("consumer: %v", err)
	}
	defer consumer.Close()
	encoder := json.NewEncoder(os.Stdout)
	for partition := int32(0); partition < int32(*partitions); partition++ {
		end, err := client.GetOffset(*topic, partition, sarama.OffsetNewest)
		if err != nil {
			log.Fatalf("end offset of partition %d: %v", partition, err)
		}
		if end == 0 {
			continue
		}
		partitionConsumer, err := consumer.ConsumePartition(*topic, partition, sarama.OffsetOldest)
		if err != nil {
			log.Fatalf("consume partition %d: %v", partition, err)
		}
		timeout := time.After(30 * time.Second)
		for done := false; !done; {
			select {
			case message := <-partitionConsumer.Messages():
				encoder.Encode(consumed{message.Partition, message.Offset, string(message.Value)})
				done = message.Offset+1 >= end
			case consumerError := <-partitionConsumer.Errors():
				log.Fatalf("partition %d: %v", partition, consumerError)
			case <-timeout:
				log.Fatalf("partition %d: timed out before offset %d", partition, end)
			}
		}
		partitionConsumer.Close()
	}
}
