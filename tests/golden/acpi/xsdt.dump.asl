/*
 * Extended System Description Table (XSDT): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[000h 0000   4]                    Signature : "XSDT"    [Extended System Description Table]
[004h 0004   4]                 Table Length : 0000003C
[008h 0008   1]                     Revision : 01
[009h 0009   1]                     Checksum : 6A
[00Ah 0010   6]                       Oem ID : "FWCOEM"
[010h 0016   8]                 Oem Table ID : "FWCTABLE"
[018h 0024   4]                 Oem Revision : 00000001
[01Ch 0028   4]              Asl Compiler ID : "FWC "
[020h 0032   4]        Asl Compiler Revision : 00010000

[024h 0036   8]       ACPI Table Address   0 : 000000007FFE0000
[02Ch 0044   8]       ACPI Table Address   1 : 000000007FFE1000
[034h 0052   8]       ACPI Table Address   2 : 0000000100000000
