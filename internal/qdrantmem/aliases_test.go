package qdrantmem

import (
	"fmt"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
)

func TestAliases(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.createDense(t, "v1", 1, qdrant.Distance_Dot)
	e.createDense(t, "v2", 1, qdrant.Distance_Dot)
	mustOK(t, e.c.CreateAlias(ctx, "movies", "v1"))

	// Every points call resolves the alias.
	e.upsert(t, "movies", pt(1, []float32{1}, nil))
	if n := e.count(t, "v1", nil); n != 1 {
		t.Fatalf("v1 count = %d, want 1", n)
	}
	_, err := e.c.UpdateBatch(ctx, &qdrant.UpdateBatchPoints{CollectionName: "movies", Wait: qdrant.PtrOf(true), Operations: []*qdrant.PointsUpdateOperation{
		qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: []*qdrant.PointStruct{pt(2, []float32{1}, nil)}})}})
	mustOK(t, err)
	got, err := e.c.Scroll(ctx, &qdrant.ScrollPoints{CollectionName: "movies"})
	mustOK(t, err)
	if fmt.Sprint(ids(got)) != "[1 2]" {
		t.Fatalf("scroll via alias = %v", ids(got))
	}
	if ok, _ := e.c.CollectionExists(ctx, "movies"); !ok {
		t.Fatal("CollectionExists(alias) = false")
	}
	info, err := e.c.GetCollectionInfo(ctx, "movies")
	mustOK(t, err)
	if info.GetPointsCount() != 2 {
		t.Fatalf("info via alias: points_count = %d", info.GetPointsCount())
	}

	// Switch the alias atomically: delete + create in one call.
	mustOK(t, e.c.UpdateAliases(ctx, []*qdrant.AliasOperations{qdrant.NewAliasDelete("movies"), qdrant.NewAliasCreate("movies", "v2")}))
	if n := e.count(t, "movies", nil); n != 0 {
		t.Fatalf("count via switched alias = %d, want 0", n)
	}
	mustOK(t, e.c.CreateAlias(ctx, "films", "v2"))
	mustOK(t, e.c.RenameAlias(ctx, "films", "cinema"))
	all, err := e.c.ListAliases(ctx)
	mustOK(t, err)
	var list []string
	for _, a := range all {
		list = append(list, a.GetAliasName()+"->"+a.GetCollectionName())
	}
	if fmt.Sprint(list) != "[cinema->v2 movies->v2]" {
		t.Fatalf("ListAliases = %v", list)
	}
	names, err := e.c.ListCollectionAliases(ctx, "v2")
	mustOK(t, err)
	if fmt.Sprint(names) != "[cinema movies]" {
		t.Fatalf("ListCollectionAliases(v2) = %v", names)
	}

	tests := []struct {
		name string
		ops  []*qdrant.AliasOperations
		code codes.Code
		msg  string
	}{
		{"create for a missing collection", []*qdrant.AliasOperations{qdrant.NewAliasCreate("a", "nope")}, codes.NotFound, "Not found: Collection `nope` doesn't exist!"},
		{"alias named like a collection", []*qdrant.AliasOperations{qdrant.NewAliasCreate("v1", "v2")}, codes.AlreadyExists, "Wrong input: Collection `v1` already exists!"},
		{"rename unknown", []*qdrant.AliasOperations{qdrant.NewAliasRename("nope", "x")}, codes.NotFound, "Not found: Alias nope does not exists!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, e.c.UpdateAliases(ctx, tc.ops), tc.code, tc.msg)
		})
	}
	// Deleting an unknown alias is not an error.
	mustOK(t, e.c.DeleteAlias(ctx, "never-was"))

	// Deleting a collection drops its aliases; the alias then fails with
	// the alias's own name, as it no longer resolves.
	mustOK(t, e.c.DeleteCollection(ctx, "v2"))
	_, err = e.c.Count(ctx, &qdrant.CountPoints{CollectionName: "movies"})
	wantStatus(t, err, codes.NotFound, "Not found: Collection `movies` doesn't exist!")
	all, _ = e.c.ListAliases(ctx)
	if len(all) != 0 {
		t.Fatalf("aliases after delete = %v", all)
	}
}
