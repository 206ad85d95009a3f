/* catalogs.S — links the compiled message catalogs (MO_EN, MO_CY: the .mo files msgfmt made from
 * broker/pages/po/ at build) into the binary, read by catalog.c. */
	.section .rodata
	.balign 4
	.globl idhub_mo_en, idhub_mo_en_end, idhub_mo_cy, idhub_mo_cy_end
idhub_mo_en:
	.incbin MO_EN
idhub_mo_en_end:
	.balign 4
idhub_mo_cy:
	.incbin MO_CY
idhub_mo_cy_end:
	.section .note.GNU-stack,"",%progbits
