package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// KcatProduce produces recs to topic with kcat, the users' tool: one line
// per record, key and value separated by a tab, empty values sent as
// tombstones (-Z). headers (name=value) are added to every record. kcat's
// partitioner is set to murmur2 so a key lands in the partition the Java
// and franz-go clients pick. Keys and values must not contain tabs or
// newlines; a non-nil empty value is not representable.
func KcatProduce(ctx context.Context, brokers []string, topic string, recs []Record, headers ...string) error {
	var in bytes.Buffer
	for i, r := range recs {
		if bytes.ContainsAny(r.Key, "\t\n") || bytes.ContainsAny(r.Value, "\t\n") {
			return fmt.Errorf("record %d: kcat lines cannot hold tabs or newlines", i)
		}
		if r.Value != nil && len(r.Value) == 0 {
			return fmt.Errorf("record %d: kcat -Z sends an empty value as a tombstone", i)
		}
		in.Write(r.Key)
		in.WriteByte('\t')
		in.Write(r.Value)
		in.WriteByte('\n')
	}
	args := []string{"-P", "-b", strings.Join(brokers, ","), "-t", topic, "-K", "\t", "-Z",
		"-X", "topic.partitioner=murmur2_random"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", args...)
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kcat producing %d records to %s: %w\n%s", len(recs), topic, err, out)
	}
	return nil
}

// KcatMessage is one record as `kcat -C -J` prints it. Key and Payload are
// nil for a null key or value.
type KcatMessage struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	Headers   []string `json:"headers"` // name, value, name, value, ...
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
}

// Header returns the value of the first header called name.
func (m KcatMessage) Header(name string) (string, bool) {
	for i := 0; i+1 < len(m.Headers); i += 2 {
		if m.Headers[i] == name {
			return m.Headers[i+1], true
		}
	}
	return "", false
}

// KcatConsumeAll reads topic from the beginning to its current end with
// `kcat -C -J -e` and returns every record.
func KcatConsumeAll(ctx context.Context, brokers []string, topic string) ([]KcatMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", "-C", "-b", strings.Join(brokers, ","), "-t", topic,
		"-o", "beginning", "-e", "-J", "-q")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kcat consuming %s: %w\n%s", topic, err, stderr.Bytes())
	}
	var msgs []KcatMessage
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m KcatMessage
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("parsing kcat output line %q: %w", line, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, sc.Err()
}
