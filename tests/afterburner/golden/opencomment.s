	pushf
/* unterminated comment
	cli
