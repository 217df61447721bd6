# A note whose descsz is 4 bytes longer than its records: nrecords and
# descsz disagree.  Four zero bytes follow inside the section, so the note
# itself is not truncated.
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
