/* The tiny program the exec and sh benchmarks start (LMbench's hello):
 * a static glibc program that exits at once. */
int main(void)
{
	return 0;
}
