# A second annotated object, linked together with good.o the way a kernel
# links many: one Afterburn note per object, all in one note section.
	.include "afterburn.inc"
	ab_begin
	.text
	.globl second_entry
	.type second_entry, @function
second_entry:
	ab_after K_HLT, CALL, M64, hlt
	ab_before K_STI, 7, M64, sti
	ab_after K_CPUID, CALL, M64, cpuid
	ret
	.size second_entry, .-second_entry
	ab_end
	ab_no_exec_stack
