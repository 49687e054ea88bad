package s3probe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls an S3 server with path-style URLs (endpoint/bucket/key).
type Client struct {
	Endpoint string // e.g. http://127.0.0.1:7070
	Creds    Credentials
	HTTP     *http.Client
}

// New returns a client for endpoint, signing for region with service "s3".
func New(endpoint, accessKey, secretKey, region string) *Client {
	return &Client{
		Endpoint: strings.TrimRight(endpoint, "/"),
		Creds:    Credentials{AccessKey: accessKey, SecretKey: secretKey, Region: region, Service: "s3"},
		HTTP:     &http.Client{Timeout: 30 * time.Second},
	}
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Op     string
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: status %d: %s", e.Op, e.Status, e.Body)
}

// CreateBucket creates bucket.
func (c *Client) CreateBucket(ctx context.Context, bucket string) error {
	_, err := c.do(ctx, "creating bucket "+bucket, http.MethodPut, "/"+bucket, nil)
	return err
}

// DeleteBucket deletes an empty bucket.
func (c *Client) DeleteBucket(ctx context.Context, bucket string) error {
	_, err := c.do(ctx, "deleting bucket "+bucket, http.MethodDelete, "/"+bucket, nil)
	return err
}

// PutObject stores body at bucket/key.
func (c *Client) PutObject(ctx context.Context, bucket, key string, body []byte) error {
	_, err := c.do(ctx, "putting "+bucket+"/"+key, http.MethodPut, "/"+bucket+"/"+key, body)
	return err
}

// GetObject returns the body stored at bucket/key.
func (c *Client) GetObject(ctx context.Context, bucket, key string) ([]byte, error) {
	return c.do(ctx, "getting "+bucket+"/"+key, http.MethodGet, "/"+bucket+"/"+key, nil)
}

// DeleteObject deletes bucket/key.
func (c *Client) DeleteObject(ctx context.Context, bucket, key string) error {
	_, err := c.do(ctx, "deleting "+bucket+"/"+key, http.MethodDelete, "/"+bucket+"/"+key, nil)
	return err
}

func (c *Client) do(ctx context.Context, op, method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	req.ContentLength = int64(len(body))
	hash := EmptySHA256
	if len(body) > 0 {
		hash = sha256Hex(body)
	}
	Sign(req, c.Creds, hash, time.Now())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: reading answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &StatusError{Op: op, Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	return b, nil
}
