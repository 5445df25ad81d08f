/*
 * Extended System Description Table (XSDT): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[0004]                          Signature : "XSDT"    [Extended System Description Table]
[0004]                       Table Length : 0000003C
[0001]                           Revision : 01
[0001]                           Checksum : 6A
[0006]                             Oem ID : "FWCOEM"
[0008]                       Oem Table ID : "FWCTABLE"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "FWC "
[0004]              Asl Compiler Revision : 00010000

[0008]             ACPI Table Address   0 : 000000007FFE0000
[0008]             ACPI Table Address   1 : 000000007FFE1000
[0008]             ACPI Table Address   2 : 0000000100000000
