from jamsos_cli.cli import main

main()
