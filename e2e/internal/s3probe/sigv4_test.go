package s3probe

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSignMatchesAWSExamples checks Sign against the worked examples of the
// AWS S3 documentation ("Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk").
func TestSignMatchesAWSExamples(t *testing.T) {
	creds := Credentials{
		AccessKey: "AKIAIOSFODNN7EXAMPLE",
		SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		Region:    "us-east-1",
		Service:   "s3",
	}
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		method, url   string
		headers       map[string]string
		payloadHash   string
		signedHeaders string
		signature     string
	}{
		{
			name:          "GET object with range",
			method:        http.MethodGet,
			url:           "https://examplebucket.s3.amazonaws.com/test.txt",
			headers:       map[string]string{"Range": "bytes=0-9"},
			payloadHash:   EmptySHA256,
			signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
			signature:     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name:          "GET bucket lifecycle (query string)",
			method:        http.MethodGet,
			url:           "https://examplebucket.s3.amazonaws.com/?lifecycle",
			payloadHash:   EmptySHA256,
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			signature:     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			name:          "GET bucket listing (two query parameters)",
			method:        http.MethodGet,
			url:           "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
			payloadHash:   EmptySHA256,
			signedHeaders: "host;x-amz-content-sha256;x-amz-date",
			signature:     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			Sign(req, creds, tc.payloadHash, at)
			want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
				"SignedHeaders=" + tc.signedHeaders + ", Signature=" + tc.signature
			if got := req.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestCanonicalURI(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"root", "", "/"},
		{"plain", "/bucket/key.txt", "/bucket/key.txt"},
		{"space and plus", "/bucket/a%20b+c", "/bucket/a%20b%2Bc"},
		{"nested", "/bucket/dir/sub/file", "/bucket/dir/sub/file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := canonicalURI(tc.in); got != tc.want {
				t.Errorf("canonicalURI(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestStatusErrorNamesOperation(t *testing.T) {
	err := &StatusError{Op: "putting b/k", Status: 403, Body: "<Error>AccessDenied</Error>"}
	if !strings.Contains(err.Error(), "putting b/k: status 403") {
		t.Errorf("error %q does not name the operation and status", err)
	}
}
