-- 0014-schedule-changes: servicing events that change a loan's remaining schedule — prepayment (reduce the
-- installment or the term) and rescheduling — may now remove or add future installments.

alter table loan_transactions drop constraint loan_transactions_kind_check;
alter table loan_transactions add constraint loan_transactions_kind_check
  check (kind in ('disbursement', 'repayment', 'prepayment', 'reschedule', 'waiver', 'write_off', 'recovery', 'refund', 'close_of_business'));

-- Re-amortising with fewer dates drops the unpaid future installments (the servicing transaction records the
-- schedule that replaced them); nothing else deletes installment rows.
grant delete on loan_installments to puhui_app;

-- A rescheduled loan keeps at least the product's restructured tier floor (DOMAIN.md: a loan may be moved to a
-- worse tier by judgement, restructured included); set by servicing, read by close of business.
alter table loans add column rescheduled_on date;
