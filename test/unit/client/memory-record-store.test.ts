import { MemoryRecordStore } from '../../../client/memory-record-store.ts';
import { suite } from '../../conformance/record-store.ts';

suite('MemoryRecordStore', { open: async () => new MemoryRecordStore(), cleanup: async () => {} });
