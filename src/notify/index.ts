// Outgoing notifications and the trace kept where teams look. This file
// exports the audit shipper to Elasticsearch/OpenSearch (es-*.ts, docs/trace.md).
export { AuditShipper, type AuditShipperOptions } from './es-shipper.ts';
export { ElasticsearchTraceSchema, elasticsearchTrace, resolveEsConnection, type ElasticsearchTraceConfig, type ElasticsearchTraceInput, type EsConnection } from './es-config.ts';
export { toDocument, fromDocument, indexTemplate, ecsOutcome, dataStreamParts, type EsDocument, type ChainHead } from './es-document.ts';
export { bulkBody, parseBulkResponse, classifyItem, NDJSON, type BulkEntry, type ItemOutcome } from './es-bulk.ts';
export { EsHttp, EsNetworkError, type EsResponse } from './es-http.ts';
export { REJECTED_ACTION, type PassResult, type ShipperStore } from './es-pass.ts';
export { verifyEsDocuments, readEsDocuments, verifyEsCopy, type EsCopyCheck, type HeadChecker } from './es-verify.ts';
