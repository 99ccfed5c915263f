-- 0016-ledger-nodes-fk: the Merkle nodes' tenant foreign key goes, as the transfers' did in 0013 (notes.md).
alter table ledger_merkle_nodes drop constraint ledger_merkle_nodes_tenant_id_fkey;
