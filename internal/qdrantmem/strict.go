package qdrantmem

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
)

// Strict mode on point writes, as Qdrant v1.18.3 enforces it.
//
// Every upsert and delete, on its own RPC or as one operation of
// UpdateBatch, passes check_strict_mode_toc_batch
// (lib/storage/src/content_manager/collection_verification.rs) once the
// collection is found and strict_mode_config.enabled is true. update_batch
// (src/tonic/api/update_common.rs) checks each operation separately, so
// upsert_max_batchsize bounds the points of one upsert operation, not of
// the whole batch. The order is the one of StrictModeVerification::
// check_strict_mode (lib/collection/src/operations/verification/mod.rs):
// check_custom (upsert limit, then collection size limits), the filter
// (index required, then filter limits), then the timeout. Every rejection
// is a CollectionError::StrictMode or ::BadRequest, both StorageError::
// BadRequest: "Bad request: ...", gRPC InvalidArgument, HTTP 400.
//
// Modelled: enabled, upsert_max_batchsize, max_points_count (exact here;
// Qdrant uses cached estimates), unindexed_filtering_update and
// filter_max_conditions for delete-by-filter, max_timeout. The other
// limits are stored and echoed only.

// strict returns c's strict mode config when it is enabled, else nil.
func (c *collection) strict() *qdrant.StrictModeConfig {
	if c.strictMode.GetEnabled() {
		return c.strictMode
	}
	return nil
}

// checkStrictUpsert checks one upsert operation of n points, as
// `impl StrictModeVerification for PointInsertOperations`
// (lib/collection/src/operations/verification/update.rs) does: the upsert
// limit, then max_points_count (check_collection_points_count_limit:
// rejected once the collection holds the limit). Its update_filter is not
// checked for indexes ("Update filter doesn't require strict mode checks").
func (c *collection) checkStrictUpsert(n int, timeout *uint64) *apiError {
	sm := c.strict()
	if sm == nil {
		return nil
	}
	if l := sm.UpsertMaxBatchsize; l != nil && uint64(n) > *l {
		return errStrictLimit(uint64(n), *l, "upsert limit")
	}
	if l := sm.MaxPointsCount; l != nil && uint64(len(c.points)) >= *l {
		return badRequest("Max points count limit of %d reached!", *l)
	}
	return checkStrictTimeout(sm, timeout)
}

// checkStrictDelete checks one delete operation: a filter selector must use
// indexed keys when unindexed_filtering_update is false
// (StrictModeVerification::check_request_filter with
// `impl StrictModeVerification for PointsSelector`), and stay within
// filter_max_conditions (check_filter_limits).
func (c *collection) checkStrictDelete(sel *qdrant.PointsSelector, timeout *uint64) *apiError {
	sm := c.strict()
	if sm == nil {
		return nil
	}
	if f := sel.GetFilter(); f != nil {
		if sm.UnindexedFilteringUpdate != nil && !*sm.UnindexedFilteringUpdate {
			if key, types, ok := c.oneUnindexedKey(f, ""); ok {
				return errStrictMode(
					fmt.Sprintf("Index required but not found for \"%s\" of one of the following types: [%s]", key, strings.Join(types, ", ")),
					"Create an index for this key or use a different filter.")
			}
		}
		if l := sm.FilterMaxConditions; l != nil {
			if n := uint64(totalConditions(f)); n > *l {
				return errStrictMode(fmt.Sprintf("Filter condition limit reached (%d > %d)", n, *l),
					"Reduce the amount of conditions of your filter.")
			}
		}
	}
	return checkStrictTimeout(sm, timeout)
}

// checkStrictTimeout is check_timeout, run last
// (collection_verification.rs): the request's timeout in seconds against
// max_timeout.
func checkStrictTimeout(sm *qdrant.StrictModeConfig, timeout *uint64) *apiError {
	if l := sm.MaxTimeout; l != nil && timeout != nil && *timeout > uint64(*l) {
		return errStrictLimit(*timeout, uint64(*l), "timeout")
	}
	return nil
}

// errStrictLimit is check_limit_opt (verification/mod.rs).
func errStrictLimit(value, limit uint64, name string) *apiError {
	return errStrictMode(fmt.Sprintf("Limit exceeded %d > %d for \"%s\"", value, limit, name),
		fmt.Sprintf("Reduce the \"%s\" parameter to or below %d.", name, limit))
}

// errStrictMode is CollectionError::strict_mode
// (lib/collection/src/operations/types.rs): "{error}. Help: {solution}",
// as a StorageError::BadRequest.
func errStrictMode(msg, help string) *apiError {
	return badRequest("%s. Help: %s", msg, help)
}

// indexType is a capability of a payload index, FieldIndexType of
// lib/collection/src/problems/unindexed_field.rs.
type indexType uint8

const (
	idxIntMatch indexType = iota
	idxIntRange
	idxKeywordMatch
	idxFloatRange
	idxText
	idxTextPhrase
	idxBoolMatch
	idxUUIDMatch
	idxUUIDRange
	idxDatetimeRange
	idxGeo
	numIndexTypes
)

// schemaName is `impl From<FieldIndexType> for PayloadFieldSchema` followed
// by PayloadFieldSchema's Display (lib/segment/src/types.rs).
func (t indexType) schemaName() string {
	switch t {
	case idxIntMatch, idxIntRange:
		return "integer"
	case idxKeywordMatch:
		return "keyword"
	case idxFloatRange:
		return "float"
	case idxText:
		return "text"
	case idxTextPhrase:
		return "text (with phrase_matching: true)"
	case idxBoolMatch:
		return "bool"
	case idxUUIDMatch, idxUUIDRange:
		return "uuid"
	case idxDatetimeRange:
		return "datetime"
	default:
		return "geo"
	}
}

// capabilities is schema_capabilities (unindexed_field.rs) for an index
// created with a plain field type.
func capabilities(t qdrant.FieldType) []indexType {
	switch t {
	case qdrant.FieldType_FieldTypeKeyword:
		return []indexType{idxKeywordMatch}
	case qdrant.FieldType_FieldTypeInteger:
		return []indexType{idxIntMatch, idxIntRange}
	case qdrant.FieldType_FieldTypeFloat:
		return []indexType{idxFloatRange}
	case qdrant.FieldType_FieldTypeGeo:
		return []indexType{idxGeo}
	case qdrant.FieldType_FieldTypeText:
		return []indexType{idxText}
	case qdrant.FieldType_FieldTypeBool:
		return []indexType{idxBoolMatch}
	case qdrant.FieldType_FieldTypeDatetime:
		return []indexType{idxDatetimeRange}
	case qdrant.FieldType_FieldTypeUuid:
		return []indexType{idxUUIDMatch, idxUUIDRange}
	}
	return nil
}

func allIndexTypes() []indexType {
	out := make([]indexType, numIndexTypes)
	for i := range out {
		out[i] = indexType(i)
	}
	return out
}

// oneUnindexedKey is Collection::one_unindexed_key
// (lib/collection/src/collection/payload_index_schema.rs) with
// Extractor::update_from_filter_once (unindexed_field.rs): the conditions
// in iter_conditions order (must, must_not, should, min_should), stopping
// after the first condition that needs an index the collection lacks. It
// returns the key and the acceptable schemas, sorted and deduplicated as the
// message lists them.
func (c *collection) oneUnindexedKey(f *qdrant.Filter, prefix string) (string, []string, bool) {
	found := map[string][]indexType{}
	var first string
	for _, cond := range filterConditions(f) {
		c.unindexedFromCondition(cond, prefix, found, &first)
		if len(found) > 0 {
			break
		}
	}
	if first == "" {
		return "", nil, false
	}
	names := make([]string, 0, len(found[first]))
	for _, t := range found[first] {
		names = append(names, t.schemaName())
	}
	slices.Sort(names)
	return first, slices.Compact(names), true
}

// unindexedFromCondition is Extractor::update_from_condition: nested
// filters are walked whole (update_from_filter), has_id and has_vector need
// no index, is_empty and is_null accept any index.
func (c *collection) unindexedFromCondition(cond *qdrant.Condition, prefix string, found map[string][]indexType, first *string) {
	var key string
	var required []indexType
	switch o := cond.GetConditionOneOf().(type) {
	case *qdrant.Condition_Field:
		key, required = o.Field.GetKey(), requiredIndexes(o.Field)
	case *qdrant.Condition_IsEmpty:
		key, required = o.IsEmpty.GetKey(), allIndexTypes()
	case *qdrant.Condition_IsNull:
		key, required = o.IsNull.GetKey(), allIndexTypes()
	case *qdrant.Condition_Filter:
		for _, sub := range filterConditions(o.Filter) {
			c.unindexedFromCondition(sub, prefix, found, first)
		}
		return
	case *qdrant.Condition_Nested:
		for _, sub := range filterConditions(o.Nested.GetFilter()) {
			c.unindexedFromCondition(sub, joinKey(prefix, o.Nested.GetKey()+"[]"), found, first)
		}
		return
	default:
		return
	}
	if len(required) == 0 {
		return
	}
	full := joinKey(prefix, key)
	if have := c.payloadIndex[full]; have != nil {
		for _, r := range required {
			if slices.Contains(capabilities(*have), r) {
				return
			}
		}
	}
	if *first == "" {
		*first = full
	}
	found[full] = append(found[full], required...)
}

// requiredIndexes is infer_index_from_field_condition (unindexed_field.rs)
// for the conditions this server compiles.
func requiredIndexes(fc *qdrant.FieldCondition) []indexType {
	var out []indexType
	switch m := fc.GetMatch().GetMatchValue().(type) {
	case *qdrant.Match_Keyword:
		if isUUID(m.Keyword) {
			out = append(out, idxUUIDMatch)
		}
		out = append(out, idxKeywordMatch)
	case *qdrant.Match_Integer, *qdrant.Match_Integers, *qdrant.Match_ExceptIntegers:
		out = append(out, idxIntMatch)
	case *qdrant.Match_Boolean:
		out = append(out, idxBoolMatch)
	case *qdrant.Match_Text, *qdrant.Match_TextAny:
		out = append(out, idxText)
	case *qdrant.Match_Phrase:
		out = append(out, idxTextPhrase)
	case *qdrant.Match_Keywords:
		out = append(out, keywordsIndexes(m.Keywords.GetStrings())...)
	case *qdrant.Match_ExceptKeywords:
		out = append(out, keywordsIndexes(m.ExceptKeywords.GetStrings())...)
	}
	if fc.Range != nil {
		out = append(out, idxFloatRange, idxIntRange)
	}
	if fc.DatetimeRange != nil {
		out = append(out, idxDatetimeRange)
	}
	if fc.GeoBoundingBox != nil || fc.GeoRadius != nil || fc.GeoPolygon != nil {
		out = append(out, idxGeo)
	}
	if fc.ValuesCount != nil || fc.IsEmpty != nil || fc.IsNull != nil {
		out = append(out, allIndexTypes()...)
	}
	return out
}

// keywordsIndexes is infer_index_from_any_variants for strings: none for an
// empty list, uuid when every string is one, keyword always.
func keywordsIndexes(ss []string) []indexType {
	if len(ss) == 0 {
		return nil
	}
	if !slices.ContainsFunc(ss, func(s string) bool { return !isUUID(s) }) {
		return []indexType{idxUUIDMatch, idxKeywordMatch}
	}
	return []indexType{idxKeywordMatch}
}

// isUUID is UuidPayloadType::parse_str succeeding (the uuid crate accepts
// the same spellings as uuid.Parse: hyphenated, simple, braced, urn).
func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

// filterConditions is Filter::iter_conditions (lib/segment/src/types.rs).
func filterConditions(f *qdrant.Filter) []*qdrant.Condition {
	if f == nil {
		return nil
	}
	out := make([]*qdrant.Condition, 0, len(f.GetMust())+len(f.GetMustNot())+len(f.GetShould()))
	out = append(out, f.GetMust()...)
	out = append(out, f.GetMustNot()...)
	out = append(out, f.GetShould()...)
	return append(out, f.GetMinShould().GetConditions()...)
}

// totalConditions is Filter::total_conditions_count: nested filters count
// their own conditions, every other condition counts one.
func totalConditions(f *qdrant.Filter) int {
	n := 0
	for _, c := range filterConditions(f) {
		switch o := c.GetConditionOneOf().(type) {
		case *qdrant.Condition_Filter:
			n += totalConditions(o.Filter)
		case *qdrant.Condition_Nested:
			n += totalConditions(o.Nested.GetFilter())
		case nil:
		default:
			n++
		}
	}
	return n
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
