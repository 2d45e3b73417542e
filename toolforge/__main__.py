from toolforge.cli import main

main()
