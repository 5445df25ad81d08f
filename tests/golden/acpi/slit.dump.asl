/*
 * System Locality Information Table (SLIT): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[000h 0000   4]                    Signature : "SLIT"    [System Locality Information Table]
[004h 0004   4]                 Table Length : 0000003C
[008h 0008   1]                     Revision : 01
[009h 0009   1]                     Checksum : 4C
[00Ah 0010   6]                       Oem ID : "FWCOEM"
[010h 0016   8]                 Oem Table ID : "FWCTABLE"
[018h 0024   4]                 Oem Revision : 00000001
[01Ch 0028   4]              Asl Compiler ID : "FWC "
[020h 0032   4]        Asl Compiler Revision : 00010000

[024h 0036   8]                   Localities : 0000000000000004

[02Ch 0044   4]                 Locality   0 : 0A 15 16 17
[030h 0048   4]                 Locality   1 : 15 0A 15 16
[034h 0052   4]                 Locality   2 : 16 15 0A 15
[038h 0056   4]                 Locality   3 : 17 16 15 0A
