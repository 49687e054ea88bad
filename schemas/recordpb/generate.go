package recordpb

//go:generate ../../scripts/protoc.sh
