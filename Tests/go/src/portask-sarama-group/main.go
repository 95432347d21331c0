// Consumes messages with a Sarama ConsumerGroup, marking each one, then closes the group (which commits the
// marked offsets) and prints each message as a JSON line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

type consumed struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Value     string `json:"value"`
}

type handler struct {
	want  int
	mutex sync.Mutex
	seen  []consumed
	done  chan struct{}
	once  sync.Once
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for message := range claim.Messages() {
		session.MarkMessage(message, "")
		h.mutex.Lock()
		h.seen = append(h.seen, consumed{message.Partition, message.Offset, string(message.Value)})
		if len(h.seen) >= h.want {
			h.once.Do(func() { close(h.done) })
		}
		h.mutex.Unlock()
	}
	return nil
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap broker")
	topic := flag.String("topic", "sarama-group", "topic")
	group := flag.String("group", "sarama-group", "consumer group id")
	count := flag.Int("count", 10, "messages to consume")
	flag.Parse()

	config := sarama.NewConfig()
	config.Version = sarama.V2_1_0_0
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	config.Consumer.Group.Session.Timeout = 6 * time.Second
	config.Consumer.Group.Heartbeat.Interval = time.Second
	consumerGroup, err := sarama.NewConsumerGroup(strings.Split(*brokers, ","), *group, config)
	if err != nil {
		log.Fatalf("group: %v", err)
	}
	h := &handler{want: *count, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for ctx.Err() == nil {
			if err := consumerGroup.Consume(ctx, []string{*topic}, h); err != nil && ctx.Err() == nil {
				log.Printf("consume: %v", err)
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()
	select {
	case <-h.done:
	case <-time.After(30 * time.Second):
		log.Fatalf("timed out after %d messages", len(h.seen))
	}
	cancel()
	<-finished
	if err := consumerGroup.Close(); err != nil {
		log.Fatalf("close: %v", err)
	}
	encoder := json.NewEncoder(os.Stdout)
	h.mutex.Lock()
	defer h.mutex.Unlock()
	for _, message := range h.seen {
		encoder.Encode(message)
	}
}
