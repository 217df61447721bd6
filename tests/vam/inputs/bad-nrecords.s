# Four stray bytes after the records: descsz is not 16 + 12 * nrecords.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl _start
_start:
	ab_after K_CLI, MEMOP, M64, cli
	ret
	ab_end extra=4
	.pushsection .note.afterburn,3
	.long 0
	.popsection
	ab_no_exec_stack
