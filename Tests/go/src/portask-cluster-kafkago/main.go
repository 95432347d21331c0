// Writes to every partition of a topic spread over several brokers with kafka-go's Writer (acks=all,
// round-robin over partitions), optionally pausing between two halves until a line arrives on stdin (the caller
// restarts a broker then), and reads every partition back from offset 0. Prints {"event":"paused"} at the pause
// and each consumed message as a JSON line.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	kafka "github.com/segmentio/kafka-go"
)

type consumed struct {
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	Value     string `json:"value"`
}

func write(ctx context.Context, writer *kafka.Writer, topic string, from, to int) {
	var messages []kafka.Message
	for i := from; i < to; i++ {
		messages = append(messages, kafka.Message{Value: []byte(fmt.Sprintf("%s-%d", topic, i))})
	}
	if err := writer.WriteMessages(ctx, messages...); err != nil {
		log.Fatalf("write %d..%d: %v", from, to, err)
	}
}

// endOffset asks the partition's leader (found through any broker) for its log end offset, retrying while the
// partition has no reachable leader.
func endOffset(ctx context.Context, brokers []string, topic string, partition int) int64 {
	var lastErr error
	for attempt := 0; attempt < 100 && ctx.Err() == nil; attempt++ {
		for _, broker := range brokers {
			conn, err := kafka.DialLeader(ctx, "tcp", broker, topic, partition)
			if err != nil {
				lastErr = err
				continue
			}
			end, err := conn.ReadLastOffset()
			conn.Close()
			if err == nil {
				return end
			}
			lastErr = err
		}
		time.Sleep(200 * time.Millisecond)
	}
	log.Fatalf("end offset of partition %d: %v", partition, lastErr)
	return 0
}

func main() {
	brokerList := flag.String("brokers", "127.0.0.1:9092", "bootstrap brokers, comma-separated")
	topic := flag.String("topic", "cluster-kafkago", "topic (must exist)")
	partitions := flag.Int("partitions", 6, "partitions of the topic")
	count := flag.Int("count", 60, "messages to write in each half")
	pause := flag.Bool("pause", false, "wait for a line on stdin between the two halves")
	flag.Parse()
	brokers := strings.Split(*brokerList, ",")

	writer := kafka.NewWriter(kafka.WriterConfig{
		Brokers:           brokers,
		Topic:             *topic,
		Balancer:          &kafka.RoundRobin{},
		BatchSize:         1,
		BatchTimeout:      10 * time.Millisecond,
		RequiredAcks:      -1,
		MaxAttempts:       100,
		RebalanceInterval: time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	write(ctx, writer, *topic, 0, *count)
	if *pause {
		fmt.Println(`{"event":"paused"}`)
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			log.Fatalf("stdin: %v", err)
		}
	}
	write(ctx, writer, *topic, *count, 2**count)
	writer.Close()

	encoder := json.NewEncoder(os.Stdout)
	for partition := 0; partition < *partitions; partition++ {
		end := endOffset(ctx, brokers, *topic, partition)
		if end == 0 {
			continue
		}
		reader := kafka.NewReader(kafka.ReaderConfig{
			Brokers: brokers, Topic: *topic, Partition: partition, MinBytes: 1, MaxBytes: 1 << 20,
			MaxWait: 200 * time.Millisecond,
		})
		if err := reader.SetOffset(0); err != nil {
			log.Fatalf("set offset: %v", err)
		}
		for {
			message, err := reader.ReadMessage(ctx)
			if err != nil {
				log.Fatalf("partition %d: read before offset %d: %v", partition, end, err)
			}
			encoder.Encode(consumed{message.Partition, message.Offset, string(message.Value)})
			if message.Offset+1 >= end {
				break
			}
		}
		reader.Close()
	}
}
