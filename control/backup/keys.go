package backup

import (
	"fmt"
	"strings"
)

// The layout of the backup store:
//
//	collections/<collection>/<backup_id>/manifest.json     written last
//	collections/<collection>/<backup_id>/<peer_id>.snapshot one per Qdrant node
//	storage/<backup_id>/manifest.json                       backup_storage
//	storage/<backup_id>/<peer_id>.snapshot
const (
	collectionsDir = "collections/"
	storageDir     = "storage/"
	manifestName   = "manifest.json"
)

// backupDir is the directory of one backup, with a trailing slash.
func backupDir(collection, backupID string) string {
	if collection == "" {
		return storageDir + backupID + "/"
	}
	return collectionsDir + collection + "/" + backupID + "/"
}

func manifestKey(collection, backupID string) string {
	return backupDir(collection, backupID) + manifestName
}

func snapshotKey(collection, backupID string, peerID uint64) string {
	return backupDir(collection, backupID) + fmt.Sprintf("%d.snapshot", peerID)
}

// collectionPrefix holds every backup of a collection ("" : storage backups).
func collectionPrefix(collection string) string {
	if collection == "" {
		return storageDir
	}
	return collectionsDir + collection + "/"
}

// backupIDOf returns the backup id of a key under prefix and whether the
// key is that backup's manifest.
func backupIDOf(prefix, key string) (id string, manifest bool, ok bool) {
	rest, found := strings.CutPrefix(key, prefix)
	if !found {
		return "", false, false
	}
	id, file, found := strings.Cut(rest, "/")
	if !found || id == "" || strings.Contains(file, "/") {
		return "", false, false
	}
	return id, file == manifestName, true
}
