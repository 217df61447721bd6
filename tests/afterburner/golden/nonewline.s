	cli
	sti