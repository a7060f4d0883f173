package main

import "fmt"

func main() { fmt.Println("the local stack is being built") }
