package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// sink/wire_gen.go is what the generator writes today from the go-client
// in go.mod: after a go-client upgrade (or a change to the generator) this
// fails until `go generate ./sink` is run.
func TestGeneratedFileUpToDate(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../wire_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			t.Fatalf("sink/wire_gen.go is stale (run go generate ./sink); line %d is\n\t%s\nwant\n\t%s", i+1, g[i], w[i])
		}
	}
	t.Fatalf("sink/wire_gen.go is stale (run go generate ./sink): %d lines, want %d", len(g), len(w))
}

func TestFuncName(t *testing.T) {
	for in, want := range map[string]string{
		"PointStruct":                           "PointStruct",
		"PointId":                               "PointID",
		"PointsIdsList":                         "PointsIDsList",
		"HasIdCondition":                        "HasIDCondition",
		"PointsUpdateOperation_PointStructList": "PointsUpdateOperationPointStructList",
		"Identity":                              "Identity",
		"Ids":                                   "IDs",
	} {
		if got := funcName(in); got != want {
			t.Errorf("funcName(%q) = %q, want %q", in, got, want)
		}
	}
}
